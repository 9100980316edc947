# VOC 2012 train_aug with CAM pseudo labels of the tags (PMM's CAM stage writes
# them; until then any weak map in the same encoding), with tags.json.
_base_ = './pascal_voc12_aug_weak.py'
weak_dir = 'tags'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(weak_path=weak_dir),
        tags_file=weak_dir + '/tags.json',
    )
)
