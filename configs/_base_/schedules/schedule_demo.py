# Short CPU schedule for the demo data: AdamW (from-scratch training converges
# faster than with the SGD of MMSeg's VOC schedules), poly decay, one
# validation at the end. The heads learn at 10x the pretrained backbone's rate,
# as in SPML's reference (ASPP and classifier x10) and MMSeg's practice for
# ImageNet-initialised backbones. Val mIoU of the fully supervised demo
# baseline (one seed each): at one rate of 2e-3 for all, 31.2 after 300
# iterations; backbone/heads at 5e-4/5e-3, 41.3 and 43.0 (two seeds) after
# 300 and 57.9 after 600; at 1e-3/1e-2, 45.5 after 300 and 61.2 after 600.
max_iters = 1000
optimizer = dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    clip_grad=None,
    paramwise_cfg=dict(
        custom_keys=dict(
            decode_head=dict(lr_mult=10.0),
            auxiliary_head=dict(lr_mult=10.0),
            classifier=dict(lr_mult=10.0),  # CAMClassifier's head
        )
    ),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=50,
        end=max_iters,
        by_epoch=False,
    ),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=250, max_keep_ckpts=2
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
