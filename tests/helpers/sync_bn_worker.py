# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Worker of tests/test_models/test_layers/test_sync_bn.py: one training
step of SPMLSyncBN (two steps, for the running statistics) on this rank's
share of a fixed global batch; ranks get unequal shares (3 and 5 images).
Saves the output, the input gradient, the parameter gradients and the
running statistics, and the output for bfloat16 input; rank 0 saves the
rows and gradients of all ranks, after an eval-mode forward of its own
(which must not wait for rank 1).

Usage:
    python tests/helpers/sync_bn_worker.py OUT
    python -m torch.distributed.run --nproc_per_node 2 \
        tests/helpers/sync_bn_worker.py OUT
"""

import sys

import torch
import torch.distributed as torch_dist

from mmseg_spml.models.layers import SPMLSyncBatchNorm
from tests.helpers import torchrun

N, C, SIZE, SPLIT = 8, 4, 5, 3


def _batch(step: int):
    """Input (N, C, SIZE, SIZE) with channel offsets and scales far from
    0 and 1, and a fixed upstream gradient of the same shape."""
    g = torch.Generator().manual_seed(10 + step)
    x = torch.randn(N, C, SIZE, SIZE, generator=g, dtype=torch.float64)
    x = x * torch.arange(1, C + 1).view(1, C, 1, 1) + 100
    return x, torch.randn(x.shape, generator=g, dtype=torch.float64)


def _gather_rows(tensor):
    """Rows of rank 0 (SPLIT) then rank 1 (N - SPLIT), on every rank."""
    padded = tensor.new_zeros((N - SPLIT,) + tensor.shape[1:])
    padded[: tensor.shape[0]] = tensor
    parts = [torch.empty_like(padded) for _ in range(2)]
    torch_dist.all_gather(parts, padded)
    return torch.cat([parts[0][:SPLIT], parts[1]])


def run(out: str) -> None:
    """Two steps on this rank's share; save what the test compares."""
    rank, world = torchrun.init()
    share = [slice(0, N), slice(0, SPLIT), slice(SPLIT, N)][world + rank - 1]
    bn = SPMLSyncBatchNorm(C, momentum=0.3).double()
    with torch.no_grad():
        bn.weight.copy_(torch.linspace(0.5, 2, C))
        bn.bias.copy_(torch.linspace(-1, 1, C))
    records = []
    for step in range(2):
        x, grad_out = (t[share] for t in _batch(step))
        x.requires_grad_(True)
        bn.zero_grad()
        y = bn(x)
        y.backward(grad_out)
        record = dict(y=y.detach(), grad_x=x.grad, grad_w=bn.weight.grad)
        record['grad_b'] = bn.bias.grad
        if world > 1:  # rows of all ranks; parameter gradients summed
            record['y'] = _gather_rows(record['y'])
            record['grad_x'] = _gather_rows(record['grad_x'])
            for key in ('grad_w', 'grad_b'):
                record[key] = record[key].clone()
                torch_dist.all_reduce(record[key])
        record['running_mean'] = bn.running_mean.clone()
        record['running_var'] = bn.running_var.clone()
        records.append(record)
    # bfloat16 input, as under CPU autocast: float32 statistics, bf16 out.
    y16 = SPMLSyncBatchNorm(C)(_batch(0)[0][share].to(torch.bfloat16))
    bf16 = dict(dtype=str(y16.dtype), y=y16.float())
    if world > 1:
        bf16['y'] = _gather_rows(bf16['y'])
    bn.eval()
    if rank == 0:  # eval mode runs no collective (rank 1 is not here)
        bn(_batch(0)[0])
    torchrun.finish(dict(steps=records, bf16=bf16), out, rank, world)


if __name__ == '__main__':
    run(sys.argv[1])
    torchrun.exit_without_teardown()
