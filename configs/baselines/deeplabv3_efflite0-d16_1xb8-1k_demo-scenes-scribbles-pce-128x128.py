# Control for SPML on the demo data: the fully supervised baseline trained
# with plain cross-entropy on the same synthetic scribbles only (unlabelled
# pixels ignored, "partial CE"), same backbone, schedule and iterations.
_base_ = ['./deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py']
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations', unlabelled_as_ignore=True),
    dict(
        type='RandomResize',
        scale=(128, 128),
        ratio_range=(0.75, 1.5),
        keep_ratio=True,
    ),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
# Mean over the labelled pixels only (sparse labels).
model = dict(
    decode_head=dict(loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(loss_decode=dict(avg_non_ignore=True)),
)
train_dataloader = dict(
    dataset=dict(weak=dict(type='scribbles'), pipeline=train_pipeline)
)
