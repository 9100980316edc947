# SPML, VOC 2012 train_aug with tags, DeepLabV3-R101, 4 GPUs x 4 images.
# kappa (annotation/co-occurrence/similarity) = 6/8/16 and weights
# 0.3/0.3/0.1: paper table 5 and the reference's train_spml_tags script.
_base_ = [
    '../_base_/models/spml_deeplabv3_r101-d8.py',
    '../_base_/datasets/pascal_voc12_aug_tags.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_spml_30k.py',
]
custom_imports = dict(imports=['mmseg_spml'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        segsort=dict(
            relations=[
                dict(
                    type='SemanticAnnotation', concentration=6, loss_weight=0.3
                ),
                dict(
                    type='SemanticCooccurrence',
                    concentration=8,
                    loss_weight=0.3,
                ),
                dict(
                    type='LowLevelSimilarity',
                    concentration=16,
                    loss_weight=0.1,
                ),
            ]
        )
    ),
)
# tools/test.py --tta: merge the scales and flips, then (with model.crf) one
# dense CRF on the merged prediction.
tta_model = dict(type='SPMLTTAModel')
# Pseudo labels seeded by the CAMs (not the classifier trained on their
# labels) and propagated on the stage-1 embedding, as the reference's
# pseudo_camrw_crf; the CAM labels are guesses, not annotations.
pseudo_label_cfg = dict(
    cams='data/VOCdevkit/VOC2012/cams', keep_weak_labels=False
)
