# Pascal VOC 2012 + SBD (train_aug, 10,582 images) trained from weak labels,
# evaluated on the full masks of VOC val (MMSeg's pascal_voc12_aug settings).
# The weak-label folder and its tags file are set by the
# pascal_voc12_aug_{scribbles,points,boxes,tags}.py configs; see the README's
# "Prepare data" section for how to make them.
_base_ = 'mmseg::_base_/datasets/pascal_voc12_aug.py'
data_root = 'data/VOCdevkit/VOC2012'
crop_size = (512, 512)
weak_dir = 'scribbles'
# SPML's augmentation (paper appendix A.4): flip, random scale 0.5-1.5,
# pad and crop to 512; no photometric changes.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations'),
    dict(type='ComputeSuperpixels', method='felzenszwalb'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 1.5),
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
        _delete_=True,
        type='WeakSegDataset',
        data_root=data_root,
        ann_file='ImageSets/Segmentation/trainaug.txt',
        data_prefix=dict(
            img_path='JPEGImages',
            seg_map_path='SegmentationClassAug',
            weak_path=weak_dir,
        ),
        tags_file=weak_dir + '/tags.json',
        metainfo=dict(
            classes=(
                'background',
                'aeroplane',
                'bicycle',
                'bird',
                'boat',
                'bottle',
                'bus',
                'car',
                'cat',
                'chair',
                'cow',
                'diningtable',
                'dog',
                'horse',
                'motorbike',
                'person',
                'pottedplant',
                'sheep',
                'sofa',
                'train',
                'tvmonitor',
            )
        ),
        pipeline=train_pipeline,
    )
)
