# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Batch normalisation synchronised over any process group backend."""

from typing import Tuple

import torch
from mmengine import dist
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_spml.utils.dist import all_gather_stack_with_grad


def sync_batch_stats(x: Tensor) -> Tuple[Tensor, Tensor, int]:
    """Mean and biased variance per channel over the batch of all ranks.

    Every rank contributes its count, mean and sum of squared deviations
    (one differentiable all-gather), which are combined as in Chan et al.'s
    parallel variance: no ``E[x^2] - E[x]^2`` cancellation. Gradients flow
    to every rank's ``x`` through the gathered statistics.

    Args:
        x (Tensor): (N, C, ...) this rank's input; N may differ between
            ranks.

    Returns:
        tuple[Tensor, Tensor, int]: Mean (C,), biased variance (C,) and the
        number of values per channel over all ranks.
    """
    dims = [0] + list(range(2, x.dim()))
    count = x.numel() // x.shape[1]
    mean = x.mean(dims)
    sq_dev = (x - mean.view(1, -1, *[1] * (x.dim() - 2))).pow(2).sum(dims)
    count_t = x.new_full((1,), float(count))
    stats = all_gather_stack_with_grad(torch.cat([count_t, mean, sq_dev]))
    counts, means, sq_devs = stats[:, :1], *stats[:, 1:].chunk(2, dim=1)
    total = counts.sum()
    global_mean = (counts * means).sum(0) / total
    global_sq = (sq_devs + counts * (means - global_mean).pow(2)).sum(0)
    return global_mean, global_sq / total, int(total.item())


@MODELS.register_module('SPMLSyncBN')
class SPMLSyncBatchNorm(_BatchNorm):
    """Synchronised batch normalisation that also runs on gloo (CPU).

    In training with more than one process the batch statistics are those
    of the whole global batch (as ``nn.SyncBatchNorm``, which needs a GPU);
    otherwise (one process, eval mode) it is plain BN, without collectives.
    It has the parameters and buffers of BN, so checkpoints load into
    BN/SyncBN models and back. :func:`mmseg_spml.utils.adapt_cfg_to_device`
    builds configs' ``SyncBN`` layers as this one in distributed CPU-only
    runs.

    Args and attributes are those of ``nn.BatchNorm2d``; inputs may have any
    number of spatial dimensions: (N, C, ...).
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(
                f'SPMLSyncBN expects an (N, C, ...) input, got shape '
                f'{tuple(input.shape)}'
            )

    def forward(self, input: Tensor) -> Tensor:
        """Normalise ``input`` (N, C, ...) with global batch statistics."""
        self._check_input_dim(input)
        # As nn.SyncBatchNorm: no collectives outside training, where the
        # ranks may run different numbers of batches.
        if not self.training or dist.get_world_size() == 1:
            return super().forward(input)
        x = input  # statistics in float32 at least, also under autocast
        if input.dtype in (torch.float16, torch.bfloat16):
            x = input.float()
        mean, var, count = sync_batch_stats(x)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), count)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out.to(input.dtype)

    @torch.no_grad()
    def _update_running_stats(
        self, mean: Tensor, var: Tensor, count: int
    ) -> None:
        """Momentum (or cumulative) update with the unbiased variance, as
        ``F.batch_norm`` does."""
        self.num_batches_tracked.add_(1)
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked)
        else:
            factor = self.momentum
        unbiased = var * count / max(count - 1, 1)
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), factor)
