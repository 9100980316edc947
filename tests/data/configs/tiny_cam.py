# A seconds-long version of the demo CAM config for tests: 32x32 images, 4
# iterations.
_base_ = ['../../../configs/pmm/cam_efflite0-d16_1xb8-500_demo-scenes-tags-128x128.py']
generator = dict(num_train=4, num_val=2, size=32, seed=0)
crop_size = (32, 32)
model = dict(data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(generator=generator, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False, dataset=dict(generator=generator))
test_dataloader = val_dataloader
max_iters = 4
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='PolyLR', power=0.9, begin=0, end=max_iters, by_epoch=False)
]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))
