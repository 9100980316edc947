# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The refinement chain that turns stage-1 class scores into a pseudo label
(SPML appendix A.4): restrict to the image's classes, normalise each class
by its maximum, random walk on the embedding affinity, upsample, dense CRF,
argmax, and keep the annotated pixels."""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .crf import dense_crf_downsampled, fit_size, resize_map
from .random_walk import normalize_by_max, random_walk, restrict_to_classes


def refine_pseudo_label(
    scores: Tensor,
    embeddings: Tensor,
    present: Tensor,
    image: Tensor,
    flip_embeddings: Optional[Tensor] = None,
    random_walk_cfg: Optional[dict] = None,
    crf_cfg: Optional[dict] = None,
    weak_label: Optional[Tensor] = None,
    allowed: Optional[Tensor] = None,
) -> Tensor:
    """Pseudo label of one image from its stage-1 scores.

    1. classes absent from the image (``present``) are zeroed and every
       class is divided by its maximum (the reference does both);
    2. with ``random_walk_cfg``, the scores are propagated on the
       embedding affinity (:func:`random_walk`, at the embedding
       resolution, scaled down to ``max_pixels`` if needed; with
       ``flip_embeddings`` the affinity is flip-averaged);
    3. the scores are upsampled to the image; with ``allowed`` (the box
       constraint: class c only inside c's boxes), the classes a pixel may
       not take are zeroed; with ``crf_cfg``, a dense CRF refines the
       scores at a resolution of at most ``crf_cfg['max_pixels']``
       (default 128 x 128, :func:`dense_crf_downsampled`);
    4. argmax over the allowed classes; pixels annotated in ``weak_label``
       (values < C) keep their annotation.

    Args:
        scores (Tensor): (C, h, w) class scores, e.g. the softmax of the
            stage-1 classifier, at the embedding resolution.
        embeddings (Tensor): (D, h, w) unit embeddings of the image.
        present (Tensor): bool (C, ) classes the image may contain.
        image (Tensor): (3, H, W) RGB image, 0-255; sets the output size.
        flip_embeddings (Tensor, optional): (D, h, w) embeddings of the
            horizontally flipped image.
        random_walk_cfg (dict, optional): Keyword arguments of
            :func:`random_walk` (``beta``, ``num_squarings``, ``power``,
            ``max_pixels``). None skips the walk.
        crf_cfg (dict, optional): Keyword arguments of :func:`dense_crf`,
            plus ``max_pixels``. None skips the CRF.
        weak_label (Tensor, optional): (H, W) annotation (class ids,
            >= C unlabelled/void).
        allowed (Tensor, optional): bool (C, H, W): the classes each pixel
            may take, e.g. from
            :func:`~mmseg_spml.datasets.box_labels.box_class_mask`.

    Returns:
        Tensor: long (H, W) pseudo label.
    """
    num_classes = scores.shape[0]
    if present.shape != (num_classes,):
        raise ValueError(
            f'present must have shape ({num_classes},), got '
            f'{tuple(present.shape)}'
        )
    if embeddings.shape[1:] != scores.shape[1:]:
        raise ValueError(
            f'embeddings {tuple(embeddings.shape)} and scores '
            f'{tuple(scores.shape)} must share their spatial size'
        )
    size = tuple(image.shape[1:])
    scores = normalize_by_max(
        restrict_to_classes(scores[None].float(), present[None])
    )[0]
    if random_walk_cfg is not None:
        cfg = dict(random_walk_cfg)
        walk_size = fit_size(
            scores.shape[1:], cfg.get('max_pixels', 128 * 128)
        )
        flip = None
        if flip_embeddings is not None:
            flip = F.normalize(resize_map(flip_embeddings, walk_size), dim=0)
        scores = random_walk(
            resize_map(scores, walk_size)[None],
            F.normalize(resize_map(embeddings, walk_size), dim=0)[None],
            flip_embeddings=None if flip is None else flip[None],
            **cfg,
        )[0]
        scores = normalize_by_max(scores[None])[0]
    if allowed is not None:
        if tuple(allowed.shape) != (num_classes, *size):
            raise ValueError(
                f'allowed must have shape (C, H, W) = '
                f'{(num_classes, *size)}, got {tuple(allowed.shape)}'
            )
        scores = resize_map(scores, size) * allowed
    if crf_cfg is not None:
        scores = dense_crf_downsampled(image, scores, **crf_cfg)
    scores = resize_map(scores, size)
    if allowed is not None:
        scores = scores.masked_fill(~allowed, -1.0)
    label = scores.argmax(0)
    if weak_label is not None:
        if tuple(weak_label.shape) != size:
            raise ValueError(
                f'weak_label has shape {tuple(weak_label.shape)} but the '
                f'image has {size}'
            )
        annotated = weak_label < num_classes
        label = torch.where(annotated, weak_label.long(), label)
    return label
