# VOC 2012 train_aug with ScribbleSup scribbles
# (tools/dataset_converters/scribblesup.py), 3 px wide.
_base_ = './pascal_voc12_aug_weak.py'
weak_dir = 'scribbles'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(weak_path=weak_dir),
        tags_file=weak_dir + '/tags.json',
    )
)
