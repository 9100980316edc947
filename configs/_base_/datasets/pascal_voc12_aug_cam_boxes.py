# VOC 2012 train_aug with SPML's box labels (paper appendix A.2): CAMs
# min-max normalised inside each box, threshold 0.5, background outside the
# boxes, made from the box maps by
#   python tools/make_pseudo_masks.py data/VOCdevkit/VOC2012/cams \
#       --boxes data/VOCdevkit/VOC2012/boxes --threshold 0.5 \
#       --out data/VOCdevkit/VOC2012/cam_boxes
_base_ = './pascal_voc12_aug_weak.py'
weak_dir = 'cam_boxes'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(weak_path=weak_dir),
        tags_file=weak_dir + '/tags.json',
    )
)
