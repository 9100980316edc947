# A seconds-long version of the demo cyclic pseudo-mask config: 32x32
# images, 2 + 2 iterations. Tests set the label folder with --cfg-options.
_base_ = ['../../../configs/pmm/deeplabv3_efflite0-d16_1xb8-2x500_demo-scenes-pseudo-puf-cyclic-128x128.py']
generator = dict(num_train=4, num_val=2, size=32, seed=0)
crop_size = (32, 32)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(generator=generator, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(generator=generator, pipeline=test_pipeline))
test_dataloader = val_dataloader
round_iters = 2
max_iters = 4
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='PolyLR', power=0.9, begin=0, end=2, by_epoch=False),
    dict(type='PolyLR', power=0.9, begin=2, end=4, by_epoch=False),
]
custom_hooks = [
    dict(
        type='CyclicPseudoMaskHook',
        at_iters=[round_iters],
        label_dir='set/by/the/test',
        restart=True,
        dataloader=dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='DemoScenesDataset',
                generator=generator,
                ann_file='ImageSets/Segmentation/train.txt',
                weak=dict(type='tags'),
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='PackWeakSegInputs'),
                ],
            ),
        ),
    )
]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))
