# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Multi-scale class activation maps of a trained CAM classifier, and one
training image's CAM file content (``tools/make_cams.py``)."""

from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor

from mmseg_spml.models.utils import preprocess_sample
from mmseg_spml.pseudo_masks import normalize_cams

#: IRN's and PMM's Pascal VOC inference scales: up-scaled views give CAMs
#: finer than the backbone's output stride.
IRN_CAM_SCALES = (1.0, 0.5, 1.5, 2.0)


def cam_scales_of(cfg: Config) -> Tuple[float, ...]:
    """The CAM inference scales a CAM config asks for.

    A data set whose images are much smaller or larger than Pascal VOC's
    sets ``cam_scales`` in its CAM config; without it IRN's VOC scales
    (:data:`IRN_CAM_SCALES`) apply.

    Args:
        cfg (Config): The CAMClassifier's config.

    Returns:
        tuple[float]: The scale factors, each > 0.

    Raises:
        ValueError: If ``cam_scales`` is empty or holds a value that is not
            a positive number.
    """
    scales = cfg.get('cam_scales', IRN_CAM_SCALES)
    if isinstance(scales, (int, float)) or not scales:
        raise ValueError(
            f'cam_scales must be a non-empty list of positive scale '
            f'factors, got {scales!r}'
        )
    for scale in scales:
        if isinstance(scale, bool) or not isinstance(scale, (int, float)):
            raise ValueError(
                f'cam_scales must hold numbers, got {scale!r} in {scales!r}'
            )
        if scale <= 0:
            raise ValueError(
                f'cam_scales must be positive, got {scale} in {scales!r}'
            )
    return tuple(float(s) for s in scales)


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


@torch.no_grad()
def image_cams(
    model: torch.nn.Module,
    data: dict,
    scales: Sequence[float],
    flip: bool,
) -> Tuple[np.ndarray, np.ndarray]:
    """The CAMs of one training image's foreground tags, as a CAM file
    holds them (:func:`~mmseg_spml.pseudo_masks.save_cam_file`).

    Args:
        model (CAMClassifier): The model, in eval mode.
        data (dict): The sample as the data set gives it (``inputs``
            (3, H, W), ``data_samples`` with ``img_tags``).
        scales (Sequence[float]): Scale factors of :func:`multi_scale_cams`.
        flip (bool): Also average the horizontally flipped image.

    Returns:
        tuple: float (K, H, W) CAMs of the K foreground tags, each divided
        by its maximum (all-zero maps stay zero), and int64 (K, ) their
        class ids.

    Raises:
        ValueError: If the sample has no image tags (names the image).
    """
    sample = data['data_samples']
    tags = sample.metainfo.get('img_tags')
    if tags is None:
        raise ValueError(
            f'{sample.img_path} has no image tags: give the training set a '
            'tags_file (or weak labels)'
        )
    h, w = data['inputs'].shape[1:]
    cams = multi_scale_cams(
        model, preprocess_sample(model, data), scales, flip
    )
    keys = np.array(sorted(t for t in tags if t > 0), dtype=np.int64)
    cams = normalize_cams(cams[keys - 1, :h, :w], eps=0)
    return cams.cpu().numpy(), keys
