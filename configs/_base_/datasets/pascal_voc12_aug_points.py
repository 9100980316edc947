# VOC 2012 train_aug with points (tools/dataset_converters/whats_the_point.py,
# or tools/make_weak_labels.py --type points), radius 6.
_base_ = './pascal_voc12_aug_weak.py'
weak_dir = 'points'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(weak_path=weak_dir),
        tags_file=weak_dir + '/tags.json',
    )
)
