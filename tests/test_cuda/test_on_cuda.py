# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The parts of mmseg-spml that behave differently on a GPU, run on one:
the SegSort loss and the random walk equal their CPU results, the SPML
train step is finite in fp32 and under fp16 AMP, and torch's SyncBN (kept
on GPU machines) trains in a one-process NCCL group.

Marked ``cuda`` and skipped where no CUDA device is visible, so CPU CI
collects them without running them; ``tools/benchmark/gpu_check.py`` runs
them on the GPU machine (``pytest -m cuda tests``).
"""

import os

import pytest
import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import nn

import mmseg_spml  # noqa: F401
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.refinement.random_walk import random_walk
from tests.helpers.tools import ROOT, free_port, load_tool

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs a CUDA device'
    ),
]

LOSS = dict(
    type='SegSortLoss',
    num_classes=5,
    kmeans_grid=(2, 2),
    memory_size=0,
    relations=[
        dict(type='SemanticAnnotation', concentration=6),
        dict(type='SemanticCooccurrence', concentration=12),
        dict(type='LowLevelSimilarity', concentration=16),
        dict(type='FeatureAffinity', concentration=12, threshold=0.5),
    ],
)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmseg')


def _loss_inputs(n=2, size=16):
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(n, 8, size, size, generator=g)
    labels = torch.full((n, size, size), UNLABELLED)
    labels[0, 2:4, 2:12] = 1
    labels[1, 2:4, 2:12] = 3  # no shared object: co-occurrence negatives
    labels[:, 10:12, 3:14] = 0
    labels[:, :, -1] = IGNORE_INDEX
    tags = torch.zeros(n, 5)
    tags[0, [0, 1]] = 1
    tags[1, [0, 3]] = 1
    yy, xx = torch.meshgrid(
        torch.arange(size), torch.arange(size), indexing='ij'
    )
    sp = ((yy // 4) * 4 + xx // 4).expand(n, size, size).contiguous()
    return feats, labels, tags, sp


def _loss_and_grad(device):
    feats, labels, tags, sp = (t.to(device) for t in _loss_inputs())
    feats.requires_grad_(True)
    emb = F.normalize(feats, dim=1)
    loss_fn = MODELS.build(LOSS).train()
    losses = loss_fn(emb, labels, tags, sp)
    sum(losses.values()).backward()
    return torch.stack(list(losses.values())).cpu(), feats.grad.cpu()


def test_segsort_loss_on_cuda_equals_cpu():
    cpu_loss, cpu_grad = _loss_and_grad('cpu')
    gpu_loss, gpu_grad = _loss_and_grad('cuda')
    assert (cpu_loss > 0).all()
    torch.testing.assert_close(gpu_loss, cpu_loss, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(gpu_grad, cpu_grad, rtol=1e-3, atol=1e-5)


def test_random_walk_on_cuda_equals_cpu():
    g = torch.Generator().manual_seed(1)
    emb = F.normalize(torch.randn(1, 16, 12, 12, generator=g), dim=1)
    scores = torch.rand(1, 5, 12, 12, generator=g)
    cpu = random_walk(scores, emb, beta=100.0, num_squarings=4)
    gpu = random_walk(scores.cuda(), emb.cuda(), beta=100.0, num_squarings=4)
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('amp', [False, True], ids=['fp32', 'fp16'])
def test_spml_train_step_is_finite(amp):
    bench = load_tool('benchmark/spml_train_step.py')
    config = os.path.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')
    model = bench.build(config, 64, 'cuda')
    optim = torch.optim.SGD(model.parameters(), lr=1e-3)
    wrapper = (
        AmpOptimWrapper(optimizer=optim, dtype='float16')
        if amp
        else OptimWrapper(optim)
    )
    data = bench.make_batch(2, 64, model.decode_head.num_classes, True, 0)
    for _ in range(3):
        log = model.train_step(data, wrapper)
        assert log and all(torch.isfinite(v) for v in log.values()), log
    assert any('sem_ann' in k for k in log)


def test_torch_syncbn_trains_in_a_one_process_nccl_group():
    if torch_dist.is_initialized():
        pytest.skip('a process group already exists')
    torch_dist.init_process_group(
        'nccl',
        init_method=f'tcp://127.0.0.1:{free_port()}',
        rank=0,
        world_size=1,
    )
    try:
        torch.manual_seed(0)
        bn = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).cuda()
        sync = nn.SyncBatchNorm.convert_sync_batchnorm(
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        ).cuda()
        sync.load_state_dict(bn.state_dict())
        x = torch.randn(4, 3, 8, 8, device='cuda')
        out_bn, out_sync = bn(x), sync(x)
        out_sync.square().mean().backward()
        # One process: the synchronised statistics are the batch's own.
        torch.testing.assert_close(out_sync, out_bn, rtol=1e-4, atol=1e-5)
        assert torch.isfinite(sync[0].weight.grad).all()
    finally:
        torch_dist.destroy_process_group()
