# SPML on DeepLabV3-ResNet101 (output stride 8), VOC setting of the paper
# (appendix A.4; reference scripts): 64-d unit embeddings upsampled to
# stride 4, k-means 6x6 grid, 10 iterations, memory of the last 2 batches.
# Differences from the reference: the embedding is a 1x1 projection of
# MMSeg's ASPP features (the reference sums four 3x3 dilated convs to 64-d).
_base_ = 'mmseg::_base_/models/deeplabv3_r50-d8.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='SPMLEncoderDecoder',
    data_preprocessor=dict(type='WeakSegDataPreProcessor'),
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(
        _delete_=True,
        type='SPMLASPPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        dilations=(1, 12, 24, 36),
        num_classes=21,
        embed_dim=64,
        upsample_ratio=2,
        # Classifier head: the reference uses dropout 0.65-0.75.
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
            kmeans_grid=(6, 6),
            kmeans_iters=10,
            memory_size=2,
            relations=[],  # set per annotation type
        ),
    ),
    # The reference has no auxiliary head: the backbone learns from the
    # embedding losses only.
    auxiliary_head=None,
)
# Stage 1 -> 2 (paper appendix A.4, reference pseudo_softmaxrw_crf): the
# classifier's scores within the image's tags, random walk on the embedding
# affinity exp(100 (cos - 1)), T^64, flip-averaged, then the dense CRF
# (pydensecrf, installed by `make setup`) at the image's full size.
pseudo_label_cfg = dict(
    random_walk=dict(beta=100.0, num_squarings=6),
    flip=True,
    crf=dict(backend='pydensecrf', max_pixels=512 * 512),
)
