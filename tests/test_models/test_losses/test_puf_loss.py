# Copyright (c) mmseg-spml contributors. All rights reserved.
import math
import warnings

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.models.losses import CrossEntropyLoss
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_spml  # noqa: F401
from mmseg_spml.models.losses import PUFLoss

IGN = 255
# Cross-entropy of a 2-class pixel whose target logit leads by 4, and of a
# pixel with equal logits.
CE4 = math.log1p(math.exp(-4))  # 0.0181499
LN2 = math.log(2)  # 0.6931472


def _build(**kw):
    init_default_scope('mmseg')
    return MODELS.build(dict(type='PUFLoss', **kw))


def _tiny():
    """1x2x1x3 logits, all labels 0: losses [CE4, CE4, LN2], mean 0.2431."""
    logits = torch.tensor([[[[4.0, 4.0, 0.0]], [[0.0, 0.0, 0.0]]]])
    label = torch.zeros(1, 1, 3, dtype=torch.long)
    return logits.requires_grad_(), label


def _random(seed=0, n=2, c=3, h=5, w=6, n_ignore=7):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, h, w, generator=g)
    label = torch.randint(0, c, (n, h, w), generator=g)
    flat = label.view(-1)
    flat[torch.randperm(flat.numel(), generator=g)[:n_ignore]] = IGN
    return logits, label


# 1. Not triggered: identical to mmseg's CrossEntropyLoss.
@pytest.mark.parametrize('avg_non_ignore', [False, True])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('mode', ['clamp', 'ignore', 'pow'])
def test_not_triggered_equals_mmseg_ce(avg_non_ignore, reduction, mode):
    logits, label = _random()
    valid = label != IGN
    ce_map = torch.nn.functional.cross_entropy(
        logits, label, reduction='none', ignore_index=IGN
    )
    # The switch must not fire under either trigger mean.
    assert ce_map.mean() >= 0.5 and ce_map[valid].mean() >= 0.5
    weight = torch.rand(
        label.shape, generator=torch.Generator().manual_seed(1)
    )
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = CrossEntropyLoss(
            reduction=reduction, loss_weight=0.7, avg_non_ignore=avg_non_ignore
        )
    puf = _build(
        mode=mode,
        reduction=reduction,
        loss_weight=0.7,
        avg_non_ignore=avg_non_ignore,
    )
    for w in (None, weight):
        x_ref = logits.clone().requires_grad_()
        x_puf = logits.clone().requires_grad_()
        expected = ref(x_ref, label, weight=w, ignore_index=IGN)
        got = puf(x_puf, label, weight=w, ignore_index=IGN)
        torch.testing.assert_close(got, expected)
        expected.sum().backward()
        got.sum().backward()
        torch.testing.assert_close(x_puf.grad, x_ref.grad)


@pytest.mark.parametrize('avg_non_ignore', [False, True])
def test_not_triggered_equals_mmseg_ce_class_weight(avg_non_ignore):
    # mmseg's class-weighted average indexes the weights with the labels,
    # so it only works without ignored pixels.
    logits, label = _random(n_ignore=0)
    cw = [0.5, 1.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = CrossEntropyLoss(class_weight=cw, avg_non_ignore=avg_non_ignore)
    puf = _build(class_weight=cw, avg_non_ignore=avg_non_ignore)
    expected = ref(logits, label, ignore_index=IGN)
    got = puf(logits, label, ignore_index=IGN)
    torch.testing.assert_close(got, expected)
    # avg_factor passes through as in mmseg.
    torch.testing.assert_close(
        puf(logits, label, ignore_index=IGN, avg_factor=3.0),
        ref(logits, label, ignore_index=IGN, avg_factor=3.0),
    )


def test_class_weight_with_ignored_pixels_hand_computed():
    # Equal logits: every valid pixel has CE ln 2 (times its class weight).
    logits = torch.zeros(1, 2, 1, 3)
    label = torch.tensor([[[0, 1, IGN]]])
    num = 1.0 * LN2 + 2.0 * LN2
    loss = _build(class_weight=[1.0, 2.0], beta=0.1, avg_non_ignore=True)
    assert loss(logits, label).item() == pytest.approx(num / 3)
    loss = _build(class_weight=[1.0, 2.0], beta=0.1, avg_non_ignore=False)
    assert loss(logits, label).item() == pytest.approx(num / 4)


# 2. clamp, hand-computed, and its zero gradient.
def test_clamp_hand_computed():
    logits, label = _tiny()
    loss = _build(mode='clamp', beta=0.5, k=0.5)
    # mean 0.2431 < 0.5: [CE4, CE4, LN2] -> [CE4, CE4, 0.5].
    out = loss(logits, label)
    assert out.item() == pytest.approx((2 * CE4 + 0.5) / 3)
    assert out.item() == pytest.approx(0.1787666, abs=1e-6)
    out_map = loss(logits, label, reduction_override='none')
    torch.testing.assert_close(
        out_map, torch.tensor([[[CE4, CE4, 0.5]]]), rtol=0, atol=1e-6
    )
    assert loss(logits, label, reduction_override='sum').item() == (
        pytest.approx(2 * CE4 + 0.5)
    )


def test_clamp_zero_gradient_for_clamped_pixels():
    logits, label = _tiny()
    loss = _build(mode='clamp', beta=0.5, k=0.5)
    loss(logits, label).backward()
    grad = logits.grad[0, :, 0]  # (C, W)
    assert (grad[:, 2] == 0).all()  # clamped pixel (loss ln 2 > 0.5)
    assert (grad[:, :2].abs() > 0).all()  # the others still learn


def test_clamp_not_triggered_keeps_gradient():
    # Losses [LN2, 2.127, LN2]: mean 1.17 >= 0.5, nothing is clamped.
    logits = torch.tensor([[[[0.0, -2.0, 0.0]], [[0.0, 0.0, 0.0]]]])
    logits.requires_grad_()
    label = torch.zeros(1, 1, 3, dtype=torch.long)
    loss = _build(mode='clamp', beta=0.5, k=0.5)
    out = loss(logits, label)
    assert out.item() == pytest.approx((2 * LN2 + math.log1p(math.exp(2))) / 3)
    out.backward()
    assert (logits.grad.abs() > 0).all()


def test_trigger_decision_is_detached():
    # The switch only selects a branch: the gradient of the triggered
    # 'clamp' loss is the CE gradient of the unclamped pixels.
    logits, label = _tiny()
    _build(mode='clamp')(logits, label).backward()
    x = logits.detach().clone().requires_grad_()
    ce = torch.nn.functional.cross_entropy(x, label, reduction='none')
    (ce[..., :2].sum() / 3).backward()
    torch.testing.assert_close(logits.grad, x.grad)


# 3. ignore and pow, hand-computed.
def test_ignore_hand_computed():
    logits, label = _tiny()
    loss = _build(mode='ignore', beta=0.5, k=0.5)
    out = loss(logits, label)
    # LN2 > 0.5 is dropped: (CE4 + CE4 + 0) / 3.
    assert out.item() == pytest.approx(2 * CE4 / 3, rel=1e-5)
    assert out.item() == pytest.approx(0.0121000, abs=1e-6)
    out.backward()
    assert (logits.grad[..., 2] == 0).all()
    assert (logits.grad[..., :2].abs() > 0).all()


def test_pow_hand_computed():
    logits, label = _tiny()
    loss = _build(mode='pow', beta=0.5, k=0.5)
    out = loss(logits, label)
    expected = (2 * math.sqrt(CE4) + math.sqrt(LN2)) / 3
    assert out.item() == pytest.approx(expected)
    assert out.item() == pytest.approx(0.3673326, abs=1e-6)
    out.backward()
    assert torch.isfinite(logits.grad).all()


def test_coco_values_not_triggered_below_threshold():
    # beta = k = 0.8 (COCO): mean 0.2431 < 0.8 triggers, but LN2 < 0.8 so
    # 'clamp' and 'ignore' leave the map unchanged.
    logits, label = _tiny()
    for mode in ('clamp', 'ignore'):
        out = _build(mode=mode, beta=0.8, k=0.8)(logits, label)
        assert out.item() == pytest.approx((2 * CE4 + LN2) / 3)


# 4. Trigger mean over all pixels vs. valid pixels.
def test_trigger_mean_all_vs_valid():
    # One valid pixel with loss ln 2, nine ignored pixels.
    logits = torch.zeros(1, 2, 1, 10)
    label = torch.full((1, 1, 10), IGN)
    label[0, 0, 0] = 0
    # 'all': mean 0.0693 < 0.5 -> fires, ln 2 clamped to 0.5.
    loss_all = _build(trigger_mean='all', reduction='sum')
    assert loss_all(logits, label).item() == pytest.approx(0.5)
    # 'valid': mean ln 2 >= 0.5 -> does not fire.
    loss_valid = _build(trigger_mean='valid', reduction='sum')
    assert loss_valid(logits, label).item() == pytest.approx(LN2)
    # Default is the reference behaviour.
    assert _build().trigger_mean == 'all'


# 5. Config build and use as a decode head loss.
def test_build_and_decode_head_loss():
    loss = _build(mode='ignore', beta=0.8, k=0.8, loss_name='loss_pmm')
    assert isinstance(loss, PUFLoss) and loss.loss_name == 'loss_pmm'
    assert _build().loss_name == 'loss_puf'

    init_default_scope('mmseg')
    head = MODELS.build(
        dict(
            type='FCNHead',
            in_channels=4,
            channels=4,
            num_convs=1,
            num_classes=3,
            loss_decode=dict(type='PUFLoss'),
        )
    )
    assert isinstance(head.loss_decode, PUFLoss)
    g = torch.Generator().manual_seed(0)
    seg_logits = torch.randn(2, 3, 4, 4, generator=g, requires_grad=True)
    samples = []
    for _ in range(2):
        gt = torch.randint(0, 3, (1, 8, 8), generator=g)
        gt[:, :2] = IGN
        samples.append(SegDataSample(gt_sem_seg=PixelData(data=gt)))
    losses = head.loss_by_feat(seg_logits, samples)
    assert 'loss_puf' in losses
    assert torch.isfinite(losses['loss_puf']) and losses['loss_puf'] > 0
    losses['loss_puf'].backward()
    assert torch.isfinite(seg_logits.grad).all()


# 6. All-ignore input: finite zero, connected to the graph.
@pytest.mark.parametrize('mode', ['clamp', 'ignore', 'pow'])
@pytest.mark.parametrize('trigger_mean', ['all', 'valid'])
@pytest.mark.parametrize('avg_non_ignore', [False, True])
@pytest.mark.parametrize('class_weight', [None, [1.0, 2.0, 3.0]])
def test_all_ignore_finite_zero(
    mode, trigger_mean, avg_non_ignore, class_weight
):
    logits = torch.randn(2, 3, 4, 4, requires_grad=True)
    label = torch.full((2, 4, 4), IGN)
    loss = _build(
        mode=mode,
        trigger_mean=trigger_mean,
        avg_non_ignore=avg_non_ignore,
        class_weight=class_weight,
    )
    out = loss(logits, label)
    assert torch.isfinite(out) and out.item() == 0
    assert out.requires_grad
    out.backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad == 0).all()


def test_pow_zero_loss_pixels_have_finite_gradient():
    # Pixel 0's loss underflows to exactly 0, pixel 1 is ignored.
    logits = torch.tensor([[[[200.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]]]])
    logits.requires_grad_()
    label = torch.tensor([[[0, IGN, 0]]])
    out = _build(mode='pow', beta=1.0, k=0.5)(logits, label)
    assert out.item() == pytest.approx(math.sqrt(LN2) / 3)
    out.backward()
    assert torch.isfinite(logits.grad).all()
    assert (logits.grad[..., :2] == 0).all()


# 7. Bad arguments.
@pytest.mark.parametrize(
    'kwargs, name',
    [
        (dict(mode='square'), 'mode'),
        (dict(trigger_mean='median'), 'trigger_mean'),
        (dict(beta=-0.1), 'beta'),
        (dict(k=-1.0), 'k'),
        (dict(beta=float('nan')), 'beta'),
        (dict(reduction='avg'), 'reduction'),
        (dict(loss_name='puf'), 'loss_name'),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=rf'^{name} '):
        PUFLoss(**kwargs)


def test_bad_reduction_override():
    logits, label = _tiny()
    with pytest.raises(ValueError, match='reduction_override'):
        PUFLoss()(logits, label, reduction_override='avg')
