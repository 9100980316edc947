# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Worker of tests/test_models/test_losses/test_segsort_ddp.py: trains a
1x1-conv embedding head with the SegSort loss for a few steps on its share
of a fixed global batch, under DDP when launched by torchrun, and saves
the (rank-averaged) losses and the head's gradients.

With ``--empty-rank``, the second half of the batch (the second rank's
share) has no labelled pixel at all.

Usage:
    python tests/helpers/segsort_ddp_worker.py OUT [--empty-rank]
    python -m torch.distributed.run --nproc_per_node 2 \
        tests/helpers/segsort_ddp_worker.py OUT [--empty-rank]
"""

import sys

import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn

import mmseg_spml  # noqa: F401
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from tests.helpers import torchrun

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


def _batch(step: int, empty_rank: bool = False):
    """Features, labels, tags and superpixels of N images (global); with
    ``empty_rank``, the second half of the images is all unlabelled."""
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
    if empty_rank:
        labels[N // 2 :][labels[N // 2 :] != IGNORE_INDEX] = UNLABELLED
    yy, xx = torch.meshgrid(
        torch.arange(SIZE), torch.arange(SIZE), indexing='ij'
    )
    sp = ((yy // 4) * 3 + xx // 4).expand(N, SIZE, SIZE).contiguous()
    return feats, labels, tags, sp


def run(out: str, empty_rank: bool = False) -> None:
    """Train STEPS steps on this rank's share; save losses and grads."""
    rank, world = torchrun.init()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    head = nn.Conv2d(5, 8, 1)
    model = head
    if world > 1:
        model = nn.parallel.DistributedDataParallel(head)
    loss_fn = MODELS.build(LOSS).train()
    share = slice(rank * N // world, (rank + 1) * N // world)
    records = []
    for step in range(STEPS):
        feats, labels, tags, sp = (t[share] for t in _batch(step, empty_rank))
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
    torchrun.finish(records, out, rank, world)


if __name__ == '__main__':
    run(sys.argv[1], '--empty-rank' in sys.argv[2:])
    torchrun.exit_without_teardown()
