# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Gather tensors of different lengths from all ranks (world size 1 too)."""

from typing import List, Tuple

import torch
import torch.distributed as torch_dist
from mmengine import dist
from torch import Tensor

_GROUP = None


def _group():
    """A process group of its own for these collectives.

    The backward of :func:`all_gather_cat_with_grad` all-reduces while
    DDP's reducer all-reduces gradient buckets from autograd hooks; on one
    group the two could be issued in different orders on different ranks
    and deadlock. Created on first use (every rank gets here in the same
    order: the loss's forward).
    """
    global _GROUP
    if _GROUP is None:
        _GROUP = torch_dist.new_group(list(range(dist.get_world_size())))
    return _GROUP


def _sizes(n: int, device) -> List[int]:
    """First-dimension size ``n`` of every rank, in rank order."""
    size = torch.tensor([n], device=device)
    return [int(s) for s in dist.all_gather(size, group=_group())]


def all_gather_cat(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` (N_r, ...) of every rank along dim 0, in rank
    order. Lengths may differ between ranks; no gradient flows.

    Returns:
        Tensor: (sum of N_r, ...); ``tensor`` itself at world size 1.
    """
    if dist.get_world_size() == 1:
        return tensor
    sizes = _sizes(tensor.shape[0], tensor.device)
    padded = tensor.new_zeros((max(sizes),) + tensor.shape[1:])
    padded[: tensor.shape[0]] = tensor
    parts = dist.all_gather(padded.contiguous(), group=_group())
    return torch.cat([p[:n] for p, n in zip(parts, sizes)])


class _GatherWithGrad(torch.autograd.Function):
    """All-gather of equally shaped tensors whose backward sums the
    gradients of every rank's copy and returns this rank's slice (only
    all-reduce is needed, which every backend supports)."""

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        ctx.rank = dist.get_rank()
        ctx.rows = tensor.shape[0]
        parts = [
            torch.empty_like(tensor) for _ in range(dist.get_world_size())
        ]
        torch_dist.all_gather(parts, tensor.contiguous(), group=_group())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.contiguous().clone()
        torch_dist.all_reduce(grad, group=_group())
        start = ctx.rank * ctx.rows
        return grad[start : start + ctx.rows]


def all_gather_stack_with_grad(tensor: Tensor) -> Tensor:
    """Stack ``tensor`` of every rank (same shape on all) along a new first
    dimension, in rank order; differentiable like
    :func:`all_gather_cat_with_grad`.

    Returns:
        Tensor: (world size, ...); ``tensor[None]`` at world size 1.
    """
    if dist.get_world_size() == 1:
        return tensor[None]
    return _GatherWithGrad.apply(tensor[None])


def all_gather_cat_with_grad(tensor: Tensor) -> Tuple[Tensor, int]:
    """Like :func:`all_gather_cat`, but differentiable: the gradient that
    any rank's loss sends to this rank's rows flows back to ``tensor``.

    Returns:
        tuple[Tensor, int]: The concatenation (sum of N_r, ...) and the
        offset of this rank's rows in it (0 at world size 1).
    """
    if dist.get_world_size() == 1:
        return tensor, 0
    sizes = _sizes(tensor.shape[0], tensor.device)
    pad = max(sizes) - tensor.shape[0]
    padded = torch.cat([tensor, tensor.new_zeros((pad,) + tensor.shape[1:])])
    gathered = _GatherWithGrad.apply(padded)
    parts = gathered.split(max(sizes))
    offset = sum(sizes[: dist.get_rank()])
    return torch.cat([p[:n] for p, n in zip(parts, sizes)]), offset


def all_reduce_sum(tensor: Tensor) -> Tensor:
    """Sum of ``tensor`` over all ranks (a copy; no gradient)."""
    tensor = tensor.detach().clone()
    if dist.get_world_size() > 1:
        torch_dist.all_reduce(tensor, group=_group())
    return tensor
