# SPML from synthetic scribbles on the demo data: the baseline's backbone,
# data and schedule, with the decode head, segmentor, data preprocessor and
# training data switched to SPML. Evaluated on the full masks of the val split.
_base_ = ['../baselines/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='SPMLEncoderDecoder',
    data_preprocessor=dict(type='WeakSegDataPreProcessor'),
    decode_head=dict(
        _delete_=True,
        type='SPMLASPPHead',
        in_channels=320,
        in_index=3,
        channels=64,
        dilations=(1, 2, 4, 6),
        num_classes=7,
        embed_dim=64,
        upsample_ratio=2,
        dropout_ratio=0.1,
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
            # The paper's 6x6 grid is for 128x128 embeddings (512 crops);
            # these crops give 16x16 embeddings, so a 4x4 grid keeps
            # blocks of a similar share of the image.
            kmeans_grid=(4, 4),
            kmeans_iters=10,
            memory_size=2,  # paper: the last 2 batches
            # kappa and lambda of the VOC scribble setting (paper table 5
            # and the reference scripts: ann 6/1.0, occ 12/0.5, sim 16/0.1).
            relations=[
                dict(
                    type='SemanticAnnotation', concentration=6, loss_weight=1.0
                ),
                dict(
                    type='SemanticCooccurrence',
                    concentration=12,
                    loss_weight=0.5,
                ),
                dict(
                    type='LowLevelSimilarity',
                    concentration=16,
                    loss_weight=0.1,
                ),
            ],
        ),
    ),
    # As in SPML, the backbone learns from the embedding losses only.
    auxiliary_head=None,
)
# tools/test.py --tta: merge the scales and flips, then (with model.crf) one
# dense CRF on the merged prediction.
tta_model = dict(type='SPMLTTAModel')
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations'),
    # Felzenszwalb regions, computed once per image by the dataset
    # (superpixels=...) rather than in the workers at every iteration.
    dict(type='LoadSuperpixels'),
    dict(
        type='RandomResize',
        scale=(128, 128),
        ratio_range=(0.75, 1.5),
        keep_ratio=True,
    ),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=crop_size),
    dict(type='PadExtraSegFields'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        weak=dict(type='scribbles'),
        superpixels=dict(method='felzenszwalb'),
        pipeline=train_pipeline,
    )
)
# Stage 1 -> 2: how tools/make_pseudo_labels.py turns this model's
# classifier into pseudo labels (SPML appendix A.4: random walk on the
# embedding affinity exp(100 (cos - 1)), T^64, flip-averaged, then the dense
# CRF with the reference's settings at the image's full size, pydensecrf).
pseudo_label_cfg = dict(
    random_walk=dict(beta=100.0, num_squarings=6),
    flip=True,
    crf=dict(backend='pydensecrf', max_pixels=128 * 128),
)
