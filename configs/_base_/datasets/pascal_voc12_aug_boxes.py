# VOC 2012 train_aug with box maps (tools/dataset_converters/voc_boxes.py):
# background outside boxes, unlabelled inside.
_base_ = './pascal_voc12_aug_weak.py'
weak_dir = 'boxes'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(weak_path=weak_dir),
        tags_file=weak_dir + '/tags.json',
    )
)
