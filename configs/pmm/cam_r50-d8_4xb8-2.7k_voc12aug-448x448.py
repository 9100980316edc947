# PMM/SPML CAM stage on VOC 2012 train_aug from image tags: a multi-label
# classifier (GAP + 1x1 conv, multi-label soft-margin loss) on ResNet-50 at
# output stride 8. PMM trains SEAM on ResNet-38 (8 epochs, batch 24, lr
# 0.02 poly, crop 448, long side 448-768; pmm_method.md section 2); this is
# the plain CAM network of that recipe on an MMSeg backbone, not SEAM.
# Then: tools/make_cams.py (the test_cfg views) -> tools/make_pseudo_masks.py.
_base_ = [
    '../_base_/datasets/pascal_voc12_aug_tags.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmseg_spml'], allow_failed_imports=False)
crop_size = (448, 448)
norm_cfg = dict(type='SyncBN', requires_grad=True)
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
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(3,),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://resnet50_v1c'
        ),
    ),
    num_classes=21,
    in_channels=2048,
    bg_power=6,  # SPML appendix A.2
    # IRN's and PMM's CAM views, for validation and tools/make_cams.py.
    test_cfg=dict(scales=(1.0, 0.5, 1.5, 2.0), flip=True),
)
train_pipeline = [
    dict(type='LoadImageFromFile'),  # tags come from the tags file
    dict(
        type='RandomResize',
        scale=(768, 448),
        ratio_range=(0.58, 1.0),  # long side 448-768 (PMM)
        keep_ratio=True,
    ),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackWeakSegInputs'),
]
cam_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackWeakSegInputs'),
]
# Images and tags/tags.json only (no weak label maps needed).
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    dataset=dict(
        data_prefix=dict(
            _delete_=True,
            img_path='JPEGImages',
            seg_map_path='SegmentationClassAug',
        ),
        pipeline=train_pipeline,
    ),
)
# The CAM seeds on VOC val (tags from the masks of val) with the full masks.
val_dataloader = dict(
    dataset=dict(
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackWeakSegInputs'),
        ]
    )
)
test_dataloader = val_dataloader
# About 8 epochs of 10,582 images at 4 GPUs x 8 (PMM: 8 epochs, batch 24).
max_iters = 2700
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys=dict(classifier=dict(lr_mult=10.0))),
)
param_scheduler = [
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0,
        begin=0,
        end=max_iters,
        by_epoch=False,
    )
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=900)
)
