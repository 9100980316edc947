# PMM's cyclic pseudo-mask on the demo data, in one run: 500 iterations with
# PUF on the CAM pseudo masks, then CyclicPseudoMaskHook predicts the training
# images with the last weights (restricted to their image tags), rewrites the
# masks in place (the old ones are archived in the work dir) and restarts
# from fresh weights for 500 more iterations. The hook overwrites
# `label_dir`, so point it (and the training set) at a *copy* of the pseudo
# masks:
#   M=$PWD/work_dirs/cyclic_masks
#   cp -r work_dirs/pmm_demo/pseudo_cvs_ppmg $M
#   python tools/train.py CONFIG --cfg-options custom_hooks.0.label_dir=$M \
#     train_dataloader.dataset.data_prefix.seg_map_path=$M
_base_ = ['./deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-pseudo-puf-128x128.py']
round_iters = 500
max_iters = 2 * round_iters
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# One warm-up + poly phase per round: the restart restarts the schedule.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=50,
        end=round_iters,
        by_epoch=False,
    ),
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=round_iters,
        end=round_iters + 50,
    ),
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=round_iters + 50,
        end=max_iters,
        by_epoch=False,
    ),
]
custom_hooks = [
    dict(
        type='CyclicPseudoMaskHook',
        at_iters=[round_iters],
        label_dir='work_dirs/cyclic_masks',
        restart=True,
        dataloader=dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='DemoScenesDataset',
                generator={{_base_.generator}},
                ann_file='ImageSets/Segmentation/train.txt',
                # The tags of the training images restrict the prediction.
                weak=dict(type='tags'),
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='PackWeakSegInputs'),
                ],
            ),
        ),
    )
]
