# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Segments (cluster ∩ label ∩ superpixel) and their prototypes."""

from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


class Segments(NamedTuple):
    """Segments of a batch.

    Attributes:
        ids (Tensor): long (N, H, W) segment id of every pixel, -1 where
            invalid; ids are contiguous, ``0 .. num - 1``.
        labels (Tensor): long (S, ) the (single) label of each segment.
        images (Tensor): long (S, ) the batch index of each segment.
        num (int): Number of segments S.
    """

    ids: Tensor
    labels: Tensor
    images: Tensor
    num: int


def unique_rows(rows: Tensor) -> Tuple[Tensor, Tensor]:
    """``torch.unique(rows, dim=0, return_inverse=True)`` for non-negative
    integer rows, computed on one int64 key per row (mixed radix, first
    column most significant), which is much faster than ``dim=0`` (that
    compares rows one at a time). When the radix product overflows int64,
    the columns are folded in one at a time, each fold renumbering the
    distinct prefixes (1-D ``torch.unique`` twice per column).

    Args:
        rows (Tensor): long (P, K), values >= 0.

    Returns:
        tuple[Tensor, Tensor]: The (U, K) unique rows in lexicographic
        order and the long (P, ) index of each row among them.
    """
    if rows.shape[0] == 0:
        return rows, rows.new_zeros(0)
    radix = rows.amax(0) + 1
    if float(radix.double().prod()) >= 2**62:
        inverse = torch.zeros_like(rows[:, 0])
        for col in rows.unbind(1):
            _, col_ids = torch.unique(col, return_inverse=True)
            _, inverse = torch.unique(
                inverse * (int(col_ids.max()) + 1) + col_ids,
                return_inverse=True,
            )
        first = torch.full(
            (int(inverse.max()) + 1,), len(rows), device=rows.device
        ).scatter_reduce_(
            0, inverse, torch.arange(len(rows), device=rows.device), 'amin'
        )
        return rows[first], inverse
    # place[k] = prod(radix[k + 1:]): the weight of column k.
    place = torch.ones_like(radix)
    place[:-1] = torch.flip(
        torch.cumprod(torch.flip(radix[1:], (0,)), 0), (0,)
    )
    keys, inverse = torch.unique(rows @ place, return_inverse=True)
    uniq = (keys[:, None] // place) % radix
    return uniq, inverse


def make_segments(
    clusters: Tensor,
    labels: Tensor,
    superpixels: Optional[Tensor] = None,
) -> Segments:
    """Split the batch into segments: pixels of one image sharing cluster,
    label and (if given) superpixel.

    Args:
        clusters (Tensor): long (N, H, W) cluster ids, -1 = invalid pixel.
        labels (Tensor): long (N, H, W) labels (class ids, unlabelled).
        superpixels (Tensor, optional): long (N, H, W) region ids (>= 0 on
            valid pixels). Default: None.

    Returns:
        Segments: Ids, per-segment label and image index, and their count.
    """
    valid = clusters >= 0
    n = clusters.shape[0]
    image = torch.arange(n, device=clusters.device).view(n, 1, 1)
    image = image.expand_as(clusters)
    parts = [image, clusters, labels]
    if superpixels is not None:
        parts.append(superpixels)
    # One key per (image, cluster, label, superpixel) of the valid pixels.
    stacked = torch.stack([p[valid] for p in parts], dim=1)  # (P, 3 or 4)
    uniq, inverse = unique_rows(stacked)
    ids = torch.full_like(clusters, -1)
    ids[valid] = inverse
    return Segments(ids, uniq[:, 2].clone(), uniq[:, 0].clone(), len(uniq))


def segment_prototypes(embeddings: Tensor, ids: Tensor, num: int) -> Tensor:
    """Normalised mean embedding of every segment.

    Args:
        embeddings (Tensor): (N, D, H, W) pixel embeddings.
        ids (Tensor): long (N, H, W) segment ids from :func:`make_segments`,
            -1 for pixels of no segment.
        num (int): Number of segments.

    Returns:
        Tensor: (num, D) unit prototypes; differentiable w.r.t.
        ``embeddings``.
    """
    d = embeddings.shape[1]
    feats = embeddings.permute(0, 2, 3, 1).reshape(-1, d)
    flat = ids.reshape(-1)
    keep = flat >= 0
    sums = feats.new_zeros(num, d).index_add_(0, flat[keep], feats[keep])
    return F.normalize(sums, dim=1)
