# COCO-DensePose coarse parts (15 classes) trained from part points, evaluated
# on the full part masks; both written by
# tools/dataset_converters/densepose.py (paper appendix A.3: 512 crops,
# flip with left/right part labels swapped).
dataset_type = 'DensePosePartsDataset'
data_root = 'data/densepose'
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations'),
    dict(type='ComputeSuperpixels', method='felzenszwalb'),
    dict(
        type='RandomResize',
        scale=(2048, 640),
        ratio_range=(0.5, 1.5),
        keep_ratio=True,
    ),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='FlipPartLabels'),
    dict(type='Pad', size=crop_size),
    dict(type='PadExtraSegFields'),
    dict(type='PackWeakSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 640), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/train.txt',
        data_prefix=dict(
            img_path='../coco/train2014',
            seg_map_path='SegmentationPart',
            weak_path='points',
        ),
        tags_file='points/tags.json',
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/minival.txt',
        data_prefix=dict(
            img_path='../coco/val2014', seg_map_path='SegmentationPart'
        ),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
