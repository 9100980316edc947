# Copyright (c) mmseg-spml contributors. All rights reserved.
"""IRN's confidence band refined by a dense CRF (Ahn, Cho & Kwak, CVPR
2019, ``cam_to_ir_label``): tag CAMs to labels that follow the image's
colour edges."""

import torch
from torch import Tensor

from mmseg_spml.label_encoding import UNLABELLED
from mmseg_spml.refinement.crf import crf_label_map

from .cam import BACKGROUND, band_labels


def crf_band_labels(
    cams: Tensor,
    keys: Tensor,
    image: Tensor,
    fg_threshold: float = 0.30,
    bg_threshold: float = 0.05,
    **crf_kwargs,
) -> Tensor:
    """IRN's confidence band with its dense CRF.

    Two hard maps of the image's classes are made from the CAMs, as
    :func:`~mmseg_spml.pseudo_masks.band_labels` with a single threshold:
    the *foreground* map (background wherever the highest CAM is below
    ``fg_threshold``) and the *background* map (background only below
    ``bg_threshold``). Each is refined by
    :func:`~mmseg_spml.refinement.crf_label_map` over background plus the
    image's classes. A pixel takes its class where the refined foreground
    map has one, is background where both refined maps say background, and
    ``UNLABELLED`` in between. Without foreground CAMs (K = 0) the plain
    band applies (no CRF).

    Args:
        cams (Tensor): float (K, H, W) normalised CAMs in [0, 1].
        keys (Tensor): integer (K, ) class ids of the maps.
        image (Tensor): RGB image (3, H, W), 0-255, of the CAMs' size.
        fg_threshold (float): Smallest CAM value of the foreground map's
            classes. Default: 0.30 (IRN).
        bg_threshold (float): CAM values below this are background in the
            background map. Default: 0.05 (IRN).
        **crf_kwargs: :func:`~mmseg_spml.refinement.crf_label_map`
            arguments (IRN's CRF by default).

    Returns:
        Tensor: long (H, W) labels: 0, ``keys`` or ``UNLABELLED``.
    """
    labels = band_labels(cams, keys, fg_threshold, bg_threshold)
    if image.dim() != 3 or image.shape[1:] != cams.shape[1:]:
        raise ValueError(
            f'image must be (3, H, W) of the CAMs {tuple(cams.shape)}, got '
            f'{tuple(image.shape)}'
        )
    if cams.shape[0] == 0:
        return labels
    ids = torch.cat([keys.new_zeros(1), keys.sort().values]).to(cams.device)

    def refined(threshold: float) -> Tensor:
        hard = band_labels(cams, keys, threshold, threshold)
        index = torch.searchsorted(ids, hard)
        return ids[crf_label_map(image, index, len(ids), **crf_kwargs)]

    fg, bg = refined(fg_threshold), refined(bg_threshold)
    labels = torch.where(fg == BACKGROUND, UNLABELLED, fg)
    labels[(fg == BACKGROUND) & (bg == BACKGROUND)] = BACKGROUND
    return labels
