# VOC 2012 train_aug with SPML's box labels (paper appendix A.2): CAMs of a
# classifier trained on the box tags, min-max normalised box by box,
# threshold 0.5 (background where (1 - CAM)^6 wins, unlabelled between),
# background outside every box; made from the box converter's output
# (boxes/: 0/254 maps + boxes.json) by
#   python tools/make_pseudo_masks.py data/VOCdevkit/VOC2012/cams_boxes \
#       --boxes data/VOCdevkit/VOC2012/boxes \
#       --out data/VOCdevkit/VOC2012/cam_boxes
# The pseudo labels keep every class inside its boxes (pseudo_label_cfg.boxes).
_base_ = './pascal_voc12_aug_weak.py'
weak_dir = 'cam_boxes'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(weak_path=weak_dir),
        tags_file=weak_dir + '/tags.json',
    )
)
