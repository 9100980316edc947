# VOC 2012 train_aug with points: the paper's are ScribbleSup scribbles reduced
# to one point each, background included (tools/dataset_converters/
# scribblesup.py --length-ratio 0 --thickness 6), or tools/make_weak_labels.py
# --type points. What's-the-point clicks have no background: the dataset
# refuses them unless background clicks are added.
_base_ = './pascal_voc12_aug_weak.py'
weak_dir = 'points'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(weak_path=weak_dir),
        tags_file=weak_dir + '/tags.json',
    )
)
