# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_spml  # noqa: F401
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.models.segmentors import unlabelled_as_void
from tests.test_models.test_heads.test_spml_head import SEGSORT, _samples


def _model():
    init_default_scope('mmseg')
    norm = dict(type='BN', requires_grad=True)
    return MODELS.build(
        dict(
            type='SPMLEncoderDecoder',
            data_preprocessor=dict(
                type='WeakSegDataPreProcessor', size=(16, 16)
            ),
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                stem_channels=8,
                base_channels=8,
                out_indices=(2, 3),
                dilations=(1, 1, 2, 4),
                strides=(1, 2, 1, 1),
                norm_cfg=norm,
            ),
            decode_head=dict(
                type='SPMLASPPHead',
                in_channels=64,
                in_index=1,
                channels=8,
                dilations=(1, 2),
                num_classes=3,
                embed_dim=6,
                norm_cfg=norm,
                segsort=SEGSORT,
            ),
            auxiliary_head=dict(
                type='FCNHead',
                in_channels=32,
                in_index=0,
                channels=8,
                num_convs=1,
                num_classes=3,
                norm_cfg=norm,
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4),
            ),
            test_cfg=ConfigDict(mode='whole'),
        )
    )


def test_train_step_and_predict_on_cpu():
    model = _model()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    data = dict(
        inputs=[torch.rand(3, 16, 16) * 255 for _ in range(2)],
        data_samples=_samples(),
    )
    log = model.train_step(data, optim)
    assert {'decode.loss_sem_ann', 'decode.loss_ce', 'aux.loss_ce'} <= set(log)
    assert all(torch.isfinite(v) for v in log.values())
    model.eval()
    preds = model.val_step(data)
    assert preds[0].pred_sem_seg.data.shape == (1, 16, 16)
    assert preds[0].pred_sem_seg.data.max() < 3


def test_aux_targets_make_unlabelled_void_without_touching_inputs():
    samples = _samples(n=1)
    copies = unlabelled_as_void(samples, num_classes=3)
    assert (samples[0].gt_sem_seg.data == UNLABELLED).any()
    out = copies[0].gt_sem_seg.data
    assert not (out == UNLABELLED).any()
    assert set(out.unique().tolist()) == {0, 1, IGNORE_INDEX}


def test_frozen_embedding_trains_the_classifier_only():
    cfg = dict(
        type='SPMLEncoderDecoder',
        freeze_embedding=True,
        data_preprocessor=dict(type='WeakSegDataPreProcessor', size=(16, 16)),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            out_indices=(3,),
            norm_cfg=dict(type='BN', requires_grad=True),
        ),
        decode_head=dict(
            type='SPMLASPPHead',
            in_channels=64,
            in_index=0,
            channels=8,
            dilations=(1, 2),
            num_classes=3,
            embed_dim=6,
            dropout_ratio=0.5,
            segsort=None,
        ),
        test_cfg=ConfigDict(mode='whole'),
    )
    init_default_scope('mmseg')
    model = MODELS.build(cfg)
    head = model.decode_head
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(
        n.startswith(('decode_head.cls_conv', 'decode_head.conv_seg'))
        for n in trainable
    )
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    running = model.backbone.stem[1].running_mean.clone()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    model.train()
    assert not model.backbone.training and not head.embed_conv.training
    assert head.dropout.training and head.cls_conv.training
    data = dict(
        inputs=[torch.rand(3, 16, 16) * 255 for _ in range(2)],
        data_samples=_samples(),
    )
    log = model.train_step(data, optim)
    assert set(log) == {'loss', 'decode.loss_ce', 'decode.acc_seg'}
    for name, param in model.named_parameters():
        changed = not torch.equal(before[name], param.detach())
        assert changed == (name in trainable), name
    # Frozen BN layers keep their statistics.
    assert torch.equal(running, model.backbone.stem[1].running_mean)
    with pytest.raises(ValueError, match='auxiliary_head=None'):
        MODELS.build(
            dict(cfg, auxiliary_head=dict(
                type='FCNHead', in_channels=64, channels=4, num_classes=3,
                in_index=0))
        )  # fmt: skip
