# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Weak label maps resized to the embedding resolution."""

import torch
from torch import Tensor

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED


def downsample_weak_labels(
    labels: Tensor, size: tuple, num_classes: int
) -> Tensor:
    """Resize weak labels so that no labelled pixel is lost.

    Nearest sampling at stride ``s`` keeps one pixel of every ``s x s``
    cell, so a click or a thin scribble smaller than the stride vanishes
    from the loss more often than not. Here every output cell pools the
    input pixels it covers (cell ``(i, j)`` of an ``(h, w)`` output holds
    the pixels ``(y, x)`` with ``y * h // H == i`` and ``x * w // W ==
    j``) and takes

    * the most frequent class among its labelled pixels (``< C``; ties go
      to the lower class id) if it has any;
    * else :data:`UNLABELLED` if it has an unlabelled pixel (``C .. 254``);
    * else :data:`IGNORE_INDEX` (only void or padding).

    On dense labels this is mode pooling; on sparse ones every labelled
    pixel reaches the cell it falls in. When ``size`` equals the input
    size the labels are returned unchanged (values ``C .. 253`` become
    :data:`UNLABELLED` otherwise, as the loss treats them alike).

    Args:
        labels (Tensor): long (N, H, W) weak labels: class ids,
            ``C .. 254`` unlabelled, 255 void.
        size (tuple[int, int]): Output size ``(h, w)``, at most ``(H, W)``.
        num_classes (int): C.

    Returns:
        Tensor: long (N, h, w) labels on ``labels``' device.
    """
    if labels.dim() != 3:
        raise ValueError(
            f'labels must have shape (N, H, W), got {tuple(labels.shape)}'
        )
    n, height, width = labels.shape
    h, w = (int(s) for s in size)
    if (h, w) == (height, width):
        return labels
    if not (0 < h <= height and 0 < w <= width):
        raise ValueError(
            f'size {(h, w)} must be positive and at most the label size '
            f'{(height, width)}'
        )
    device = labels.device
    # Values: classes 0..C-1, then C = unlabelled, C + 1 = void.
    values = torch.where(
        labels == IGNORE_INDEX,
        num_classes + 1,
        labels.clamp(max=num_classes),
    )
    rows = torch.arange(height, device=device) * h // height
    cols = torch.arange(width, device=device) * w // width
    cell = (rows[:, None] * w + cols[None, :]).expand(n, -1, -1)
    cell = cell + torch.arange(n, device=device)[:, None, None] * (h * w)
    bins = num_classes + 2
    counts = torch.bincount(
        (cell * bins + values).reshape(-1), minlength=n * h * w * bins
    ).view(n, h, w, bins)
    labelled = counts[..., :num_classes]
    best = labelled.argmax(-1)  # first maximum: the lower class id
    out = torch.where(
        counts[..., num_classes] > 0,
        torch.full_like(best, UNLABELLED),
        torch.full_like(best, IGNORE_INDEX),
    )
    return torch.where(labelled.sum(-1) > 0, best, out)
