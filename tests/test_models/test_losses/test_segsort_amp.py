# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Mixed precision: the SegSort loss and k-means compute in float32 under
autocast, SPMLAmpOptimWrapper trains on CPU (bfloat16), and
``tools/train.py --amp`` trains the SPML config."""

import math
import os.path as osp
import re
import warnings

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS, OPTIM_WRAPPERS
from torch import nn

import mmseg_spml  # noqa: F401
from mmseg_spml.clustering import spherical_kmeans
from mmseg_spml.engine import optim_wrapper as amp_module
from mmseg_spml.engine.optim_wrapper import SPMLAmpOptimWrapper
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.models.losses.segsort.pixel_segment import pixel_segment_nll
from mmseg_spml.utils import adapt_cfg_to_device
from tests.helpers.tools import ROOT, python_tool, run

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')
BF16 = dict(device_type='cpu', dtype=torch.bfloat16)


def _loss():
    init_default_scope('mmseg')
    return MODELS.build(
        dict(
            type='SegSortLoss',
            num_classes=4,
            kmeans_grid=(2, 2),
            kmeans_iters=3,
            memory_size=0,
            relations=[
                dict(type='SemanticAnnotation', concentration=6),
                dict(type='SemanticCooccurrence', concentration=12),
                dict(type='LowLevelSimilarity', concentration=16),
                dict(type='FeatureAffinity', concentration=12),
            ],
        )
    )


def _inputs(n=2, h=16, w=16):
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(n, 6, h, w, generator=g)
    labels = torch.full((n, h, w), UNLABELLED)
    labels[:, :3, :] = 1  # scribbles
    labels[:, -3:, :] = 2
    labels[1, 6:8, :] = 3
    labels[:, :, -1] = IGNORE_INDEX
    tags = torch.tensor([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0]])
    sp = (torch.arange(h * w).view(1, h, w) // 32).expand(n, h, w).clone()
    return feats, labels, tags, sp


def _losses(emb, amp=False):
    """SegSort losses (under bfloat16 autocast if ``amp``), their sum's
    gradient w.r.t. ``emb`` (a leaf)."""
    _, labels, tags, sp = _inputs()
    with torch.autocast(**BF16, enabled=amp):
        losses = _loss()(emb, labels, tags.to(emb.dtype), sp)
    sum(losses.values()).backward()
    return {k: v.detach() for k, v in losses.items()}, emb.grad


def test_segsort_loss_under_bf16_autocast_is_fp32_maths():
    g = torch.Generator().manual_seed(0)
    emb32 = F.normalize(torch.randn(2, 8, 16, 16, generator=g), dim=1)
    # What a head under autocast hands the loss: bfloat16 embeddings.
    emb16 = emb32.to(torch.bfloat16)
    amp, amp_grad = _losses(emb16.clone().requires_grad_(), amp=True)
    same, same_grad = _losses(emb16.float().requires_grad_())
    ref, ref_grad = _losses(emb32.clone().requires_grad_())
    assert all(v.dtype == torch.float32 for v in amp.values())
    assert all(torch.isfinite(v) for v in amp.values())
    assert sum(amp.values()) > 0
    assert amp_grad.dtype == torch.bfloat16
    assert torch.isfinite(amp_grad).all() and amp_grad.abs().sum() > 0
    for name, value in amp.items():
        # The same (bfloat16-valued) inputs in float32: the same maths.
        torch.testing.assert_close(value, same[name], rtol=1e-5, atol=1e-6)
        # The unrounded inputs: only the 2^-8 rounding of the embeddings.
        torch.testing.assert_close(value, ref[name], rtol=3e-2, atol=1e-3)
    torch.testing.assert_close(
        amp_grad, same_grad.to(torch.bfloat16), rtol=1e-2, atol=1e-4
    )
    assert (
        F.cosine_similarity(
            amp_grad.float().flatten(), ref_grad.flatten(), dim=0
        )
        > 0.99
    )


def test_head_under_bf16_autocast_trains_with_finite_loss():
    """End to end: a 1x1-conv head under autocast, the loss outside."""
    torch.manual_seed(0)
    init = nn.Conv2d(6, 8, 1).state_dict()
    feats, labels, tags, sp = _inputs()
    grads = []
    for amp in (False, True):
        head = nn.Conv2d(6, 8, 1)
        head.load_state_dict(init)
        with torch.autocast(**BF16, enabled=amp):
            emb = F.normalize(head(feats), dim=1)
            losses = _loss()(emb, labels, tags, sp)
        total = sum(losses.values())
        assert torch.isfinite(total) and total > 0
        total.backward()
        assert torch.isfinite(head.weight.grad).all()
        grads.append(head.weight.grad.flatten())
    assert F.cosine_similarity(*grads, dim=0) > 0.9


def test_loss_maths_ignore_autocast():
    """Float32 embeddings: autocast must not change a single bit of the
    loss (its similarities would be bfloat16 matmuls otherwise), in the
    forward pass nor in a backward pass run inside autocast."""
    g = torch.Generator().manual_seed(1)
    emb = F.normalize(torch.randn(300, 8, generator=g), dim=1)
    protos = F.normalize(torch.randn(12, 8, generator=g), dim=1)
    own = torch.randint(-1, 12, (300,), generator=g)
    pix_labels = torch.randint(0, 3, (300,), generator=g)
    proto_labels = torch.randint(0, 3, (12,), generator=g)
    results = []
    for amp in (False, True):
        e, p = emb.clone().requires_grad_(), protos.clone().requires_grad_()
        with torch.autocast(**BF16, enabled=amp):
            loss, count = pixel_segment_nll(
                e, p, own, pix_labels, proto_labels, 16.0, chunk_size=64
            )
            loss.backward()
        results.append((loss.detach(), e.grad, p.grad))
    for ref, amp in zip(*results):
        torch.testing.assert_close(amp, ref, rtol=1e-6, atol=1e-7)

    feats = torch.randn(2, 5, 12, 12, generator=g)
    valid = torch.ones(2, 12, 12, dtype=torch.bool)
    ref = spherical_kmeans(feats, valid, (3, 3), 10)
    with torch.autocast(**BF16):
        assert torch.equal(spherical_kmeans(feats, valid, (3, 3), 10), ref)


def _wrapper(**kwargs):
    model = nn.Linear(4, 2)
    return model, OPTIM_WRAPPERS.build(
        dict(
            type='SPMLAmpOptimWrapper',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            **kwargs,
        )
    )


def test_amp_optim_wrapper_on_cpu_uses_bf16_without_loss_scaling():
    init_default_scope('mmseg')
    model, wrapper = _wrapper(loss_scale='dynamic')
    assert isinstance(wrapper, SPMLAmpOptimWrapper)
    assert wrapper.cast_dtype == torch.bfloat16
    assert not wrapper.loss_scaler.is_enabled()
    with wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cpu')
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16
        out = model(torch.ones(3, 4))
    assert out.dtype == torch.bfloat16
    before = model.weight.detach().clone()
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(model.weight, before)
    # Resuming: the (empty) scaler state round-trips, and a scaling
    # (float16) wrapper can resume from it.
    state = wrapper.state_dict()
    assert state['loss_scaler'] == {}
    _, other = _wrapper()
    other.load_state_dict(dict(state))
    other.loss_scaler = torch.amp.GradScaler('cpu', init_scale=8.0)
    other.load_state_dict(dict(state))
    assert other.loss_scaler.get_scale() == 8.0


@pytest.mark.parametrize(
    'dtype, message',
    [('float16', 'float16 autocast needs a GPU'), ('float32', 'one of')],
)
def test_amp_optim_wrapper_rejects_bad_dtypes_on_cpu(dtype, message):
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match=message):
        _wrapper(dtype=dtype)


def test_amp_optim_wrapper_on_gpu_defaults_to_fp16_with_scaling(monkeypatch):
    """The accelerator branch is MMEngine's AmpOptimWrapper (float16,
    GradScaler): checked without a GPU by faking one."""
    init_default_scope('mmseg')
    monkeypatch.setattr(amp_module, '_accelerator_available', lambda: True)
    monkeypatch.setattr(
        'mmengine.optim.optimizer.amp_optimizer_wrapper.is_cuda_available',
        lambda: True,
    )
    with warnings.catch_warnings():  # GradScaler without CUDA, deprecation
        warnings.simplefilter('ignore')
        _, wrapper = _wrapper()
    assert wrapper.cast_dtype == torch.float16
    assert isinstance(wrapper.loss_scaler, torch.amp.GradScaler)


@pytest.mark.parametrize('cuda, expected', [(False, 'SPML'), (True, '')])
def test_config_amp_wrapper_is_swapped_on_cpu_only(
    monkeypatch, cuda, expected
):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    cfg = Config(
        dict(
            launcher='none',
            model=dict(type='EncoderDecoder'),
            optim_wrapper=dict(type='AmpOptimWrapper', optimizer=dict()),
        )
    )
    adapt_cfg_to_device(cfg)
    assert cfg.optim_wrapper.type == expected + 'AmpOptimWrapper'


@pytest.mark.slow
def test_train_tool_amp_trains_spml_config_on_cpu(tmp_path):
    proc = run(
        python_tool(
            'train.py',
            TINY_SPML,
            '--amp',
            '--work-dir',
            str(tmp_path / 'work'),
            '--cfg-options',
            'train_cfg.max_iters=3',
            'train_cfg.val_interval=3',
        ),
        str(tmp_path / 'data'),
        timeout=300,
    )
    log = proc.stdout
    assert "type='SPMLAmpOptimWrapper'" in log
    assert 'Mixed precision: autocast to bfloat16, loss scaling off.' in log
    iters = re.findall(r'Iter\(train\) \[(\d+)/3\].*', log)
    assert iters == ['1', '2', '3']
    for line in re.findall(r'Iter\(train\) .*', log):
        values = re.findall(r'(\S*loss\S*): (\S+)', line)
        assert {'loss', 'decode.loss_sem_ann', 'decode.loss_ce'} <= {
            k for k, _ in values
        }
        assert all(math.isfinite(float(v)) for _, v in values), line
    assert osp.isfile(tmp_path / 'work' / 'iter_3.pth')
