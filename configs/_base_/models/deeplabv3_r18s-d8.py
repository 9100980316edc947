# DeepLabV3 on a slim ResNet-18 (V1c stem, 32 base channels instead of 64),
# output stride 8, trained from scratch: small enough to train on a 2-core CPU
# in minutes.
_base_ = 'mmseg::_base_/models/deeplabv3_r50-d8.py'
model = dict(
    pretrained=None,
    backbone=dict(depth=18, stem_channels=32, base_channels=32),
    decode_head=dict(in_channels=256, channels=64, dilations=(1, 3, 6, 9)),
    auxiliary_head=dict(in_channels=128, channels=32),
)
