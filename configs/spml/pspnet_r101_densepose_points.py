# SPML, COCO-DensePose parts from points, PSPNet-R101 with 32-d embeddings,
# 4 GPUs x 4 images, 45k iterations, k-means 12x12, no memory bank (the
# reference's DensePose script). Relations: annotation kappa 6 / weight 1.0,
# low-level similarity 16 / 0.1, feature affinity 12 / 0.5 (paper table 5;
# feature affinity is active here, it is dead code in the reference).
_base_ = [
    'mmseg::_base_/models/pspnet_r50-d8.py',
    '../_base_/datasets/densepose_parts_points.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_spml_30k.py',
]
custom_imports = dict(imports=['mmseg_spml'], allow_failed_imports=False)
crop_size = (512, 512)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='SPMLEncoderDecoder',
    data_preprocessor=dict(type='WeakSegDataPreProcessor', size=crop_size),
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(
        _delete_=True,
        type='SPMLPSPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        pool_scales=(1, 2, 3, 6),
        num_classes=15,
        embed_dim=32,
        upsample_ratio=2,
        dropout_ratio=0.65,
        norm_cfg=norm_cfg,
        align_corners=False,
        # Mean over the labelled pixels only (sparse labels).
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True,
        ),
        segsort=dict(
            type='SegSortLoss',
            kmeans_grid=(12, 12),
            kmeans_iters=10,
            memory_size=0,
            relations=[
                dict(
                    type='SemanticAnnotation', concentration=6, loss_weight=1.0
                ),
                dict(
                    type='LowLevelSimilarity',
                    concentration=16,
                    loss_weight=0.1,
                ),
                dict(
                    type='FeatureAffinity', concentration=12, loss_weight=0.5
                ),
            ],
        ),
    ),
    # The reference has no auxiliary head: the backbone learns from the
    # embedding losses only.
    auxiliary_head=None,
)
max_iters = 45000
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=100,
        end=max_iters,
        by_epoch=False,
    ),
]
train_cfg = dict(max_iters=max_iters)
# tools/test.py --tta: merge the scales and flips, then (with model.crf) one
# dense CRF on the merged prediction.
tta_model = dict(type='SPMLTTAModel')
