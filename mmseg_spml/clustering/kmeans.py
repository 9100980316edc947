# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Batched spherical k-means with grid initialisation (SPML section 3).

Every image of a batch is clustered independently but all at once: the
only Python loop runs over the (few) k-means iterations.
"""

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg_spml.utils.device import autocast_disabled


def location_features(
    height: int, width: int, device=None, dtype=torch.float32
) -> Tensor:
    """Pixel coordinates in [-0.5, 0.5], SPML's location features.

    Returns:
        Tensor: (2, H, W): row (y) then column (x) coordinates.
    """
    ys = torch.linspace(0, 1, height, device=device, dtype=dtype) - 0.5
    xs = torch.linspace(0, 1, width, device=device, dtype=dtype) - 0.5
    return torch.stack(torch.meshgrid(ys, xs, indexing='ij'))


def grid_cluster_labels(
    grid: Tuple[int, int], height: int, width: int, device=None
) -> Tensor:
    """Initial cluster of every pixel: a ``rows x cols`` grid of blocks.

    Rounds ``linspace(0, rows - 1, H)`` (and the same for columns), as the
    reference implementation does, so the border blocks are half as wide.

    Returns:
        Tensor: long (H, W) with values in ``[0, rows * cols)``.
    """
    rows, cols = grid
    ys = torch.linspace(0, rows - 1, height, device=device).round().long()
    xs = torch.linspace(0, cols - 1, width, device=device).round().long()
    return ys[:, None] * cols + xs[None, :]


def spherical_kmeans(
    features: Tensor,
    valid: Tensor,
    grid: Tuple[int, int] = (6, 6),
    num_iters: int = 10,
) -> Tensor:
    """Cluster each image's pixels on the unit sphere.

    M-step: a cluster's centre is the normalised sum of its features;
    E-step: each pixel joins the centre of largest cosine. Clusters that
    become empty stay empty (they are never the argmax), and invalid
    pixels take part in nothing. Computed in float32 with autocast off,
    whatever the features' dtype. An iteration that leaves the labels
    unchanged ends the loop: the rest would change nothing, so the result
    is that of all ``num_iters`` iterations.

    Args:
        features (Tensor): (N, D, H, W) pixel features (normalised here).
        valid (Tensor): bool (N, H, W); False for void/padding pixels.
        grid (tuple[int, int]): Initial ``rows x cols`` grid; the number of
            clusters is ``rows * cols``. Default: (6, 6).
        num_iters (int): k-means iterations. Default: 10.

    Returns:
        Tensor: long (N, H, W) cluster ids in ``[0, rows * cols)``, -1 for
        invalid pixels.
    """
    with autocast_disabled(features.device):
        return _spherical_kmeans(features, valid, grid, num_iters)


def _spherical_kmeans(
    features: Tensor, valid: Tensor, grid: Tuple[int, int], num_iters: int
) -> Tensor:
    """:func:`spherical_kmeans` without the autocast guard."""
    n, d, h, w = features.shape
    k = grid[0] * grid[1]
    feats = F.normalize(features.detach().float(), dim=1)
    feats = feats.flatten(2).transpose(1, 2)  # (N, HW, D)
    mask = valid.reshape(n, h * w)
    labels = grid_cluster_labels(grid, h, w, features.device).flatten()
    labels = labels.expand(n, -1).clone()  # (N, HW)
    weights = mask.to(feats.dtype)
    weighted = feats * weights.unsqueeze(-1)  # invalid pixels count 0
    for _ in range(num_iters):
        centres = feats.new_zeros(n, k, d).scatter_add_(
            1, labels.unsqueeze(-1).expand(-1, -1, d), weighted
        )
        counts = feats.new_zeros(n, k).scatter_add_(1, labels, weights)
        centres = F.normalize(centres, dim=-1)
        sim = torch.bmm(feats, centres.transpose(1, 2))  # (N, HW, K)
        sim = sim.masked_fill((counts == 0).unsqueeze(1), float('-inf'))
        new_labels = sim.argmax(dim=-1)
        # An iteration is a function of the labels alone: once they stop
        # changing, the remaining iterations would return them unchanged.
        if torch.equal(new_labels, labels):
            break
        labels = new_labels
    return labels.masked_fill(~mask, -1).view(n, h, w)
