# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Gather tensors of different lengths from all ranks (world size 1 too)."""

import torch
from mmengine import dist
from torch import Tensor


def all_gather_cat(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` (N_r, ...) of every rank along dim 0, in rank
    order. Lengths may differ between ranks; no gradient flows.

    Returns:
        Tensor: (sum of N_r, ...); ``tensor`` itself at world size 1.
    """
    if dist.get_world_size() == 1:
        return tensor
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [int(s) for s in dist.all_gather(size)]
    padded = tensor.new_zeros((max(sizes),) + tensor.shape[1:])
    padded[: tensor.shape[0]] = tensor
    parts = dist.all_gather(padded.contiguous())
    return torch.cat([p[:n] for p, n in zip(parts, sizes)])
