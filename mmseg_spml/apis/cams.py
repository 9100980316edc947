# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Multi-scale class activation maps of a trained CAM classifier."""

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


@torch.no_grad()
def multi_scale_cams(
    model: torch.nn.Module, image: Tensor, scales: Sequence[float], flip: bool
) -> Tensor:
    """CAMs averaged over scales (and flips), at the image's size.

    Args:
        model (CAMClassifier): The model, in eval mode.
        image (Tensor): (1, 3, H, W) normalised image.
        scales (Sequence[float]): Scale factors.
        flip (bool): Also average the horizontally flipped image.

    Returns:
        Tensor: (C - 1, H, W) non-negative CAMs (not normalised).
    """
    size = image.shape[2:]
    total = 0
    for scale in scales:
        x = F.interpolate(
            image, scale_factor=scale, mode='bilinear', align_corners=False
        )
        views = [x, x.flip(3)] if flip else [x]
        cams = model.cams(torch.cat(views))
        cams = F.interpolate(
            cams, size=size, mode='bilinear', align_corners=False
        )
        if flip:
            cams = torch.stack([cams[0], cams[1].flip(2)])
        total = total + cams.sum(0)
    return total / (len(scales) * (2 if flip else 1))
