# VOC 2012 train_aug with CAM labels of the tags and tags.json: IRN's
# confidence band on max-normalised CAMs (foreground >= 0.30, background
# < 0.05, unlabelled between), made by
#   python tools/make_pseudo_masks.py data/VOCdevkit/VOC2012/cams \
#       --out data/VOCdevkit/VOC2012/tags
# (CAMs: configs/pmm/cam_r50-d8_4xb8-2.7k_voc12aug-448x448.py + make_cams.py).
# SPML's own rule (appendix A.2: background (1 - max CAM)^6, threshold 0.2)
# is --method threshold; it never leaves a pixel unlabelled.
# The pseudo labels are seeded by the CAMs and propagated on the stage-1
# embedding (the reference's pseudo_camrw_crf).
_base_ = './pascal_voc12_aug_weak.py'
weak_dir = 'tags'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(weak_path=weak_dir),
        tags_file=weak_dir + '/tags.json',
    )
)
