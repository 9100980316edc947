# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Two processes (gloo, CPU) under DDP compute the SegSort loss and the
gradients of one process on the concatenated batch: prototypes, memory
bank, co-occurrence and feature affinity are all global."""

import os
import socket

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import nn

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets.constants import IGNORE_INDEX, UNLABELLED

pytestmark = pytest.mark.slow

N, C, SIZE, STEPS = 4, 6, 12, 3
LOSS = dict(
    type='SegSortLoss',
    num_classes=C,
    kmeans_grid=(2, 2),
    memory_size=2,
    relations=[
        dict(type='SemanticAnnotation', concentration=6),
        dict(type='SemanticCooccurrence', concentration=12),
        dict(type='LowLevelSimilarity', concentration=16),
        dict(type='FeatureAffinity', concentration=12, threshold=0.5),
    ],
)


def _batch(step: int):
    """Features, labels, tags and superpixels of N images (global)."""
    g = torch.Generator().manual_seed(100 + step)
    feats = torch.randn(N, 5, SIZE, SIZE, generator=g)
    labels = torch.full((N, SIZE, SIZE), UNLABELLED)
    tags = torch.zeros(N, C)
    for i in range(N):
        classes = torch.randperm(C - 1, generator=g)[:2] + 1
        labels[i, 1:3, 2:9] = classes[0]
        labels[i, 8:10, 3:10] = classes[1] if i % 2 else 0
        tags[i, classes] = 1
        tags[i, 0] = 1
    labels[:, :, -1] = IGNORE_INDEX
    # Unequal shares: the second half of the batch has far fewer valid and
    # labelled pixels, so per-rank means would differ from the global one.
    labels[N // 2 :, :6] = IGNORE_INDEX
    yy, xx = torch.meshgrid(
        torch.arange(SIZE), torch.arange(SIZE), indexing='ij'
    )
    sp = ((yy // 4) * 3 + xx // 4).expand(N, SIZE, SIZE).contiguous()
    return feats, labels, tags, sp


def _run(rank: int, world: int, port: int, out: str) -> None:
    """Train STEPS steps on this rank's share; save losses and grads."""
    if world > 1:
        os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
        torch_dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.set_num_threads(1)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    head = nn.Conv2d(5, 8, 1)
    model = head
    if world > 1:
        model = nn.parallel.DistributedDataParallel(head)
    loss_fn = MODELS.build(LOSS).train()
    share = slice(rank * N // world, (rank + 1) * N // world)
    records = []
    for step in range(STEPS):
        feats, labels, tags, sp = (t[share] for t in _batch(step))
        head.zero_grad()
        emb = F.normalize(model(feats), dim=1)
        losses = loss_fn(emb, labels, tags, sp)
        sum(losses.values()).backward()
        values = torch.stack([v.detach() for v in losses.values()])
        if world > 1:  # the mean over ranks is the global loss
            torch_dist.all_reduce(values)
            values /= world
        records.append(
            dict(
                losses=values,
                grad_w=head.weight.grad.clone(),
                grad_b=head.bias.grad.clone(),
                memory=len(loss_fn.memory.get(emb, C)[0]),
            )
        )
    if rank == 0:
        torch.save(records, out)
    if world > 1:
        torch_dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_equal_one_process_on_the_whole_batch(tmp_path):
    single, double = str(tmp_path / 'single.pth'), str(tmp_path / 'ddp.pth')
    _run(0, 1, 0, single)
    mp.spawn(_run, args=(2, _free_port(), double), nprocs=2, join=True)
    one, two = torch.load(single), torch.load(double)
    for step, (a, b) in enumerate(zip(one, two)):
        assert a['memory'] == b['memory'], step  # global memory bank
        assert (a['losses'] > 0).all(), step  # every relation contributes
        torch.testing.assert_close(
            b['losses'], a['losses'], rtol=1e-5, atol=1e-6
        )
        torch.testing.assert_close(
            b['grad_w'], a['grad_w'], rtol=1e-4, atol=1e-6
        )
        torch.testing.assert_close(
            b['grad_b'], a['grad_b'], rtol=1e-4, atol=1e-6
        )
