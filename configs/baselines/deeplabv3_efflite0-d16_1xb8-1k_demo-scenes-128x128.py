# Fully supervised DeepLabV3 on the demo data: the reference that weak
# supervision is compared with. Runs on CPU (`make demo`) or GPU, single
# process or tools/dist_train.sh.
_base_ = [
    '../_base_/models/deeplabv3_efflite0-d16.py',
    '../_base_/datasets/demo_scenes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo.py',
]
custom_imports = dict(imports=['mmseg_spml'], allow_failed_imports=False)
crop_size = (128, 128)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=7),
    auxiliary_head=dict(num_classes=7),
)
randomness = dict(seed=0)
