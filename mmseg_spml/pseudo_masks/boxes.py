# Copyright (c) mmseg-spml contributors. All rights reserved.
"""CAM-in-box pseudo labels from a box list (SPML appendix A.2).

Box annotations come as a list of boxes per image (``boxes.json``, see
:mod:`mmseg_spml.datasets.box_labels`), not as a label map: a map cannot
hold overlapping boxes. Here every box is handled on its own, then the
boxes are merged pixel by pixel. CAMs follow the convention of
:mod:`mmseg_spml.pseudo_masks.cam`.
"""

from typing import List, Sequence

import torch
from torch import Tensor

from mmseg_spml.datasets.box_labels import (
    Box,
    box_map,
    check_box,
    check_boxes_in_image,
)

from .cam import BACKGROUND, _check_cams, _check_keys, cams_to_labels


def _check_boxes(boxes: Sequence[Box], cams: Tensor, keys: Tensor) -> List:
    """Valid boxes inside the CAMs' (H, W) whose classes all have a CAM."""
    if isinstance(boxes, Tensor) or not isinstance(boxes, (list, tuple)):
        raise ValueError(
            'boxes must be a list of (cls, x1, y1, x2, y2) boxes (0-based '
            f'inclusive pixel coordinates), got {type(boxes).__name__}'
        )
    boxes = [check_box(b, where=f'box {i}') for i, b in enumerate(boxes)]
    check_boxes_in_image(boxes, tuple(cams.shape[1:]), 'boxes')
    known = set(keys.tolist())
    missing = sorted({b[0] for b in boxes} - known)
    if missing:
        raise ValueError(
            f'boxes of class(es) {missing} have no CAM (keys '
            f'{sorted(known)}); every box class needs a CAM'
        )
    return boxes


def box_normalized_cams(
    cams: Tensor, keys: Tensor, boxes: Sequence[Box]
) -> Tensor:
    """Min-max normalise each class's CAM box by box.

    For each box b of class c: ``relu(cam_c)`` is min-max normalised over
    b's pixels, ``(v - min_b) / (max_b - min_b)`` (a box where the CAM is
    constant gives 0); a pixel inside several boxes of class c takes the
    maximum of their values. Map k is 0 outside the boxes of ``keys[k]``
    (and for classes without a box).

    Args:
        cams (Tensor): float (K, H, W) CAMs, any sign.
        keys (Tensor): integer (K, ) class ids of the maps.
        boxes (Sequence[Box]): ``(cls, x1, y1, x2, y2)``, 0-based
            inclusive, inside the (H, W) of ``cams``; every ``cls`` must be
            in ``keys``.

    Returns:
        Tensor: float (K, H, W) maps in [0, 1].
    """
    _check_cams(cams, unit=False)
    _check_keys(keys, cams.shape[0])
    boxes = _check_boxes(boxes, cams, keys)
    cams = cams.relu()
    out = torch.zeros_like(cams)
    index = {key: k for k, key in enumerate(keys.tolist())}
    for cls, x1, y1, x2, y2 in boxes:
        k = index[cls]
        region = cams[k, y1 : y2 + 1, x1 : x2 + 1]
        lo, hi = region.min(), region.max()
        if hi > lo:
            norm = (region - lo) / (hi - lo)
        else:
            norm = torch.zeros_like(region)
        view = out[k, y1 : y2 + 1, x1 : x2 + 1]
        torch.maximum(view, norm, out=view)
    return out


def cam_in_box_labels(
    cams: Tensor,
    keys: Tensor,
    boxes: Sequence[Box],
    alpha: float = 6.0,
    threshold: float = 0.5,
) -> Tensor:
    """SPML's box pseudo labels: CAMs normalised and thresholded in boxes.

    1. :func:`box_normalized_cams`: each box's CAM min-max normalised over
       the box (after ReLU), the maximum where boxes of one class overlap.
    2. Inside the boxes, each pixel's winning class is the one with the
       highest normalised value x among the classes of the boxes it lies
       in (ties to the lower class id); it is then scored as
       :func:`~mmseg_spml.pseudo_masks.cam.cams_to_labels` does: the
       background score is ``(1 - x) ** alpha``; the higher of the two
       wins (ties to background) and the pixel is ``UNLABELLED`` if that
       score is below ``threshold``. With the defaults: the class if
       ``x >= 0.5``, background if ``x <= 0.109``, unlabelled in between.
    3. Every pixel outside all boxes is background (0).

    Args:
        cams (Tensor): float (K, H, W) CAMs, any sign (e.g. from
            ``tools/make_cams.py``).
        keys (Tensor): integer (K, ) class ids of the maps; every box class
            must be among them (others are unused).
        boxes (Sequence[Box]): ``(cls, x1, y1, x2, y2)``, 0-based
            inclusive, inside the (H, W) of ``cams``.
        alpha (float): Background power, > 0. Default: 6 (SPML).
        threshold (float): Smallest winning score, in [0, 1].
            Default: 0.5 (SPML, boxes).

    Returns:
        Tensor: long (H, W) labels: 0, box classes and ``UNLABELLED``.
    """
    scores = box_normalized_cams(cams, keys, boxes)
    order = torch.argsort(keys.cpu())
    labels = cams_to_labels(
        scores[order.to(scores.device)],
        keys[order.to(keys.device)],
        alpha,
        threshold,
    )
    height, width = cams.shape[1:]
    inside = torch.from_numpy(box_map((height, width), boxes) != 0)
    labels[~inside.to(labels.device)] = BACKGROUND
    return labels
