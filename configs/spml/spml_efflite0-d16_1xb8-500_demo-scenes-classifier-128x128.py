# SPML stage 2 on the demo data: a softmax classifier trained on pseudo
# labels over the frozen stage-1 embedding (paper appendix A.4; reference:
# dropout 0.65, lr 3e-3 poly, 4000 iterations on VOC). tools/spml_pipeline.py
# sets the stage-1 checkpoint and the pseudo-label folder:
#   --cfg-options load_from=STAGE1.pth \
#     train_dataloader.dataset.data_prefix.weak_path=PSEUDO \
#     train_dataloader.dataset.tags_file=PSEUDO/tags.json
_base_ = ['./spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py']
model = dict(
    freeze_embedding=True,
    decode_head=dict(segsort=None, dropout_ratio=0.65),
)
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations'),
    dict(
        type='RandomResize',
        scale=(128, 128),
        ratio_range=(0.75, 1.5),
        keep_ratio=True,
    ),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=crop_size),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        weak=None,
        superpixels=None,  # the classifier needs no regions
        data_prefix=dict(
            img_path='JPEGImages',
            seg_map_path='SegmentationClass',
            weak_path='pseudo_labels',
        ),
        tags_file='pseudo_labels/tags.json',
        pipeline=train_pipeline,
    )
)
max_iters = 500
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False,
    )
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
