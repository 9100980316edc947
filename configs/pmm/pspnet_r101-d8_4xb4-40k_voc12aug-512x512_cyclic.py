# PMM's cyclic pseudo-mask in one run: round 1 (20k iterations, PUF) on the
# CVS+PPMG masks, then CyclicPseudoMaskHook predicts train_aug with the last
# weights (no checkpoint selection on val, unlike PMM's pick_best_pth.py),
# restricted to each image's tags, rewrites the masks (the old ones are
# archived in the work dir) and restarts from fresh weights for round 2
# (20k more iterations; PMM trains round 2 without PUF, here PUF stays: set
# loss_decode to CrossEntropyLoss in a derived config to match exactly).
# PMM regenerates with multi-scale + flip + CRF; the hook predicts with the
# plain model (no TTA, no CRF: not implemented in the hook yet).
_base_ = './pspnet_r101-d8_4xb4-20k_voc12aug-512x512_pseudo-puf.py'
round_iters = 20000
max_iters = 2 * round_iters
train_cfg = dict(max_iters=max_iters, val_interval=round_iters)
# One poly phase per round: the restart also restarts the learning rate.
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=round_iters,
        by_epoch=False,
    ),
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=round_iters,
        end=max_iters,
        by_epoch=False,
    ),
]
custom_hooks = [
    dict(
        type='CyclicPseudoMaskHook',
        at_iters=[round_iters],
        label_dir='data/VOCdevkit/VOC2012/pseudo_cvs_ppmg',
        restart=True,
        tags_file='data/VOCdevkit/VOC2012/tags/tags.json',
        dataloader=dict(
            batch_size=1,
            num_workers=4,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='PascalVOCDataset',
                data_root='data/VOCdevkit/VOC2012',
                data_prefix=dict(img_path='JPEGImages'),
                ann_file='ImageSets/Segmentation/trainaug.txt',
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
                    dict(type='PackSegInputs'),
                ],
            ),
        ),
    )
]
