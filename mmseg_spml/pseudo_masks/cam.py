# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pure functions that turn class activation maps (CAMs) into labels.

CAM convention shared by every function of this package:

* ``cams``: float (K, H, W), one map per foreground class present in the
  image, non-negative (ReLU'ed) and, where a function says so, in [0, 1].
* ``keys``: integer (K, ), the class ids of the K maps, distinct and in
  ``1 .. MAX_CLASSES - 1`` (class 0 is background).

Labels returned are long (H, W) maps in the dataset encoding of
:mod:`mmseg_spml.label_encoding`: class ids where labelled,
:data:`UNLABELLED` (254) where the pseudo label is left open and
:data:`IGNORE_INDEX` (255) for void.
"""

import torch
from torch import Tensor

from mmseg_spml.label_encoding import (
    MAX_CLASSES,
    UNLABELLED,
)

#: Class id of the background.
BACKGROUND = 0


def _check_cams(cams: Tensor, name: str = 'cams', unit: bool = True) -> None:
    """Raise ValueError unless ``cams`` is a float (K, H, W) tensor.

    Args:
        cams (Tensor): The maps to check.
        name (str): Argument name used in the messages.
        unit (bool): Also require every value to lie in [0, 1].
    """
    if not isinstance(cams, Tensor):
        raise ValueError(f'{name} must be a torch.Tensor, got {type(cams)}')
    if cams.dim() != 3:
        raise ValueError(
            f'{name} must have shape (K, H, W), got {tuple(cams.shape)}'
        )
    if not cams.is_floating_point():
        raise ValueError(f'{name} must be a float tensor, got {cams.dtype}')
    if cams.numel() == 0:
        return
    if torch.isnan(cams).any():
        raise ValueError(f'{name} must not contain NaN')
    if unit:
        lo, hi = cams.min().item(), cams.max().item()
        if lo < 0 or hi > 1:
            raise ValueError(
                f'{name} must lie in [0, 1] (normalised CAMs), got values '
                f'in [{lo:g}, {hi:g}]'
            )


def _check_keys(keys: Tensor, num_cams: int) -> None:
    """Raise ValueError unless ``keys`` are K distinct foreground ids."""
    if not isinstance(keys, Tensor):
        raise ValueError(f'keys must be a torch.Tensor, got {type(keys)}')
    if keys.dim() != 1 or keys.shape[0] != num_cams:
        raise ValueError(
            f'keys must have shape (K, ) = ({num_cams}, ) to match cams, '
            f'got {tuple(keys.shape)}'
        )
    if keys.is_floating_point() or keys.dtype == torch.bool:
        raise ValueError(f'keys must be an integer tensor, got {keys.dtype}')
    if num_cams == 0:
        return
    if keys.min().item() < 1 or keys.max().item() >= MAX_CLASSES:
        raise ValueError(
            f'keys must be foreground class ids in 1..{MAX_CLASSES - 1}, '
            f'got {keys.tolist()}'
        )
    if torch.unique(keys).numel() != num_cams:
        raise ValueError(f'keys must be distinct, got {keys.tolist()}')


def _check_unit_interval(value: float, name: str) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f'{name} must be in [0, 1], got {value}')


def _check_positive(value: float, name: str) -> None:
    if not value > 0:
        raise ValueError(f'{name} must be > 0, got {value}')


def normalize_cams(cams: Tensor, eps: float = 1e-5) -> Tensor:
    """ReLU each CAM and divide it by its maximum over the image.

    As Ahn & Kwak (2018) and SPML (appendix A.2):
    ``relu(cam) / (max(relu(cam)) + eps)``. An all-zero (or all-negative)
    map stays 0.

    Args:
        cams (Tensor): float (K, H, W) raw CAMs, any sign.
        eps (float): Added to the maximum; keeps all-zero maps finite. 0
            divides by the maximum exactly (each map's peak is 1).
            Default: 1e-5.

    Returns:
        Tensor: float (K, H, W) maps in [0, 1) ([0, 1] for ``eps`` 0).
    """
    _check_cams(cams, unit=False)
    if not eps >= 0:
        raise ValueError(f'eps must be >= 0, got {eps}')
    cams = cams.relu()
    if cams.numel() == 0:
        return cams
    peak = cams.amax(dim=(1, 2), keepdim=True)
    if eps > 0:
        return cams / (peak + eps)
    return torch.where(peak > 0, cams / peak.clamp(min=1e-30), 0.0)


def cams_to_labels(
    cams: Tensor,
    keys: Tensor,
    alpha: float,
    threshold: float,
) -> Tensor:
    """Threshold normalised CAMs into a pseudo label map (SPML).

    Background score ``(1 - max_k cams_k) ** alpha``; scores
    ``[bg; cams]``; the label is the class of the highest score (ties go
    to background, then to the lower k). Pixels whose highest score is
    below ``threshold`` become ``UNLABELLED``. SPML (appendix A.2) uses
    alpha 6 with threshold 0.2 for tags and 0.5 for boxes (the latter on
    box-normalised CAMs, see
    :func:`mmseg_spml.pseudo_masks.boxes.cam_in_box_labels`). With K = 0
    every pixel is background.

    Note that the highest score is at least ``min_x max((1 - x) ** alpha,
    x)``, the root of ``(1 - x) ** alpha = x`` (0.222 for alpha 6): with
    alpha 6 and threshold 0.2 no pixel is ever left unlabelled. For an
    unlabelled band on tag CAMs use :func:`band_labels`.

    Args:
        cams (Tensor): float (K, H, W) normalised CAMs in [0, 1].
        keys (Tensor): integer (K, ) class ids of the maps.
        alpha (float): Background power, > 0.
        threshold (float): Smallest winning score to label a pixel, in
            [0, 1].

    Returns:
        Tensor: long (H, W) labels: 0, ``keys`` or ``UNLABELLED``.
    """
    _check_cams(cams)
    _check_keys(keys, cams.shape[0])
    _check_positive(alpha, 'alpha')
    _check_unit_interval(threshold, 'threshold')
    num_cams, height, width = cams.shape
    if num_cams == 0:
        fg_max = cams.new_zeros((height, width))
    else:
        fg_max = cams.amax(dim=0)
    bg = (1 - fg_max).pow(alpha)
    scores = torch.cat([bg[None], cams], dim=0)
    best, index = scores.max(dim=0)
    ids = torch.cat([keys.new_tensor([BACKGROUND]), keys]).to(
        device=cams.device, dtype=torch.long
    )
    labels = ids[index]
    labels[best < threshold] = UNLABELLED
    return labels


def band_labels(
    cams: Tensor,
    keys: Tensor,
    fg_threshold: float = 0.30,
    bg_threshold: float = 0.05,
) -> Tensor:
    """Tag CAMs to labels with an unlabelled band between two thresholds.

    With ``x`` the highest of a pixel's (max-normalised) CAMs: the pixel
    takes that CAM's class if ``x >= fg_threshold``, background (0) if
    ``x < bg_threshold``, and ``UNLABELLED`` in between. Ties between
    classes go to the lower class id. With K = 0 every pixel has x = 0.

    The defaults are IRN's Pascal VOC values (Ahn, Cho & Kwak, CVPR 2019,
    ``conf_fg_thres=0.30`` and ``conf_bg_thres=0.05`` on max-normalised
    CAMs), the confident foreground and background seeds from which IRN
    learns; IRN also refines each of the two seed maps with a dense CRF:
    :func:`~mmseg_spml.pseudo_masks.crf_band_labels`.

    Args:
        cams (Tensor): float (K, H, W) normalised CAMs in [0, 1].
        keys (Tensor): integer (K, ) class ids of the maps.
        fg_threshold (float): Smallest CAM value of a foreground pixel,
            in [0, 1]. Default: 0.30 (IRN).
        bg_threshold (float): CAM values below this are background, in
            [0, fg_threshold]. Default: 0.05 (IRN).

    Returns:
        Tensor: long (H, W) labels: 0, ``keys`` or ``UNLABELLED``.
    """
    _check_cams(cams)
    _check_keys(keys, cams.shape[0])
    _check_unit_interval(fg_threshold, 'fg_threshold')
    _check_unit_interval(bg_threshold, 'bg_threshold')
    if bg_threshold > fg_threshold:
        raise ValueError(
            f'bg_threshold ({bg_threshold}) must not exceed fg_threshold '
            f'({fg_threshold})'
        )
    num_cams, height, width = cams.shape
    labels = torch.full(
        (height, width), UNLABELLED, dtype=torch.long, device=cams.device
    )
    if num_cams == 0:
        best = cams.new_zeros((height, width))
    else:
        order = torch.argsort(keys.cpu()).to(cams.device)
        best, index = cams[order].max(dim=0)
        ids = keys.to(device=cams.device, dtype=torch.long)[order]
        fg = best >= fg_threshold
        labels[fg] = ids[index[fg]]
    labels[best < bg_threshold] = BACKGROUND
    return labels


def coefficient_of_variation_smoothing(
    cams: Tensor, threshold: float = 0.05, scale: float = 0.3
) -> Tensor:
    """PMM's Coefficient-of-Variation Smoothing (CVS).

    For each class c, with ``S_c = {x : v_c(x) > threshold}``:

    * ``cv_c = scale * std(v_c[S_c]) / mean(v_c[S_c])``, with the
      population standard deviation (divide by ``|S_c|``, numpy's default,
      as the PMM reference); ``cv_c = 0`` if ``S_c`` is empty;
    * ``v~_c = (v_c * 1[v_c >= threshold]) ** (1 - cv_c)``.

    The exponent is below 1, so peaky maps (high cv) are spread more than
    flat ones. Pixels below the threshold become 0. If ``cv_c >= 1`` (not
    reachable with the defaults, where ``cv_c < 0.66``) the exponent is
    clamped at 0, which sets every kept pixel to 1 instead of leaving
    [0, 1].

    Args:
        cams (Tensor): float (K, H, W) normalised CAMs in [0, 1].
        threshold (float): t, PMM's ``cam_thresh``. Default: 0.05.
        scale (float): s, PMM's ``cv_scale``. Default: 0.3.

    Returns:
        Tensor: float (K, H, W) smoothed maps in [0, 1].
    """
    _check_cams(cams)
    _check_unit_interval(threshold, 'threshold')
    if scale < 0:
        raise ValueError(f'scale must be >= 0, got {scale}')
    above = (cams > threshold).to(cams.dtype)
    count = above.sum(dim=(1, 2))
    denom = count.clamp(min=1)
    mean = (cams * above).sum(dim=(1, 2)) / denom
    var = ((cams - mean[:, None, None]).square() * above).sum(
        dim=(1, 2)
    ) / denom
    # mean > threshold >= 0 wherever count > 0.
    safe_mean = torch.where(count > 0, mean, torch.ones_like(mean))
    cv = torch.where(count > 0, scale * var.sqrt() / safe_mean, 0.0)
    exponent = (1 - cv).clamp(min=0)[:, None, None]
    keep = cams >= threshold
    kept = torch.where(keep, cams, torch.ones_like(cams))
    return torch.where(keep, kept.pow(exponent), torch.zeros_like(cams))


def binary_foreground(cams: Tensor, alpha: float = 11.0) -> Tensor:
    """Per-class binary foreground, PMM PPMG step 1 without the CRF.

    ``fg_c = v_c > (1 - v_c) ** alpha``: the unary argmax of PMM's
    2-label [background, foreground] problem with background score
    ``(1 - v_c) ** alpha``. PMM runs a dense CRF on these two scores
    here instead; a CRF can be plugged in later by computing its own
    foreground masks and passing them to
    :func:`proportional_pseudo_mask`.

    Args:
        cams (Tensor): float (K, H, W) maps in [0, 1], in PMM the
            CVS-smoothed CAMs.
        alpha (float): Background power, > 0. Default: 11 (PMM).

    Returns:
        Tensor: bool (K, H, W) foreground masks.
    """
    _check_cams(cams)
    _check_positive(alpha, 'alpha')
    return cams > (1 - cams).pow(alpha)


def proportional_pseudo_mask(
    cams: Tensor, foreground: Tensor, keys: Tensor
) -> Tensor:
    """PMM's Proportional Pseudo-mask Generation (PPMG), steps 2 and 3.

    Importance ``p_c(x) = v_c(x) / (1 + sum_y v_c(y) * fg_c(y))``: the
    pixel's share of the class's activation mass inside its own
    foreground. Each pixel takes ``keys[argmax_c p_c(x)]`` over the
    classes with ``fg_c(x)`` (ties go to the lower c), and background (0)
    where no class is foreground. Overlaps are settled by relative rather
    than absolute activation, which favours small, concentrated objects.

    Args:
        cams (Tensor): float (K, H, W) raw (unsmoothed) normalised CAMs in
            [0, 1].
        foreground (Tensor): bool (K, H, W) per-class foreground masks,
            e.g. from :func:`binary_foreground` or a dense CRF.
        keys (Tensor): integer (K, ) class ids of the maps.

    Returns:
        Tensor: long (H, W) labels: 0 or ``keys``; every pixel labelled.
    """
    _check_cams(cams)
    _check_keys(keys, cams.shape[0])
    if not isinstance(foreground, Tensor) or foreground.dtype != torch.bool:
        raise ValueError('foreground must be a bool torch.Tensor')
    if foreground.shape != cams.shape:
        raise ValueError(
            f'foreground must have shape (K, H, W) = {tuple(cams.shape)} '
            f'to match cams, got {tuple(foreground.shape)}'
        )
    num_cams, height, width = cams.shape
    labels = torch.full(
        (height, width), BACKGROUND, dtype=torch.long, device=cams.device
    )
    if num_cams == 0:
        return labels
    foreground = foreground.to(cams.device)
    mass = (cams * foreground).sum(dim=(1, 2), keepdim=True)
    importance = cams / (1 + mass)
    importance = importance.masked_fill(~foreground, float('-inf'))
    winner = importance.argmax(dim=0)
    any_fg = foreground.any(dim=0)
    ids = keys.to(device=cams.device, dtype=torch.long)
    labels[any_fg] = ids[winner[any_fg]]
    return labels


def pmm_pseudo_labels(
    cams: Tensor,
    keys: Tensor,
    use_cvs: bool = True,
    use_ppmg: bool = True,
    alpha: float = 6.0,
    threshold: float = 0.2,
    cvs_threshold: float = 0.05,
    cvs_scale: float = 0.3,
    ppmg_alpha: float = 11.0,
) -> Tensor:
    """PMM's pseudo-mask chain (without CRF) or SPML-style thresholding.

    1. ``use_cvs``: smooth the CAMs with
       :func:`coefficient_of_variation_smoothing` (``cvs_threshold``,
       ``cvs_scale``); otherwise the raw CAMs are used as "smoothed".
    2. ``use_ppmg=True``: foreground masks
       ``binary_foreground(smoothed, ppmg_alpha)``, then
       :func:`proportional_pseudo_mask` with the **raw** CAMs as the
       importance; every pixel is labelled (no ``UNLABELLED``), and
       ``alpha`` / ``threshold`` are unused.
       ``use_ppmg=False``: ``cams_to_labels(smoothed, keys, alpha,
       threshold)``; ``ppmg_alpha`` is unused.

    Args:
        cams (Tensor): float (K, H, W) normalised CAMs in [0, 1].
        keys (Tensor): integer (K, ) class ids of the maps.
        use_cvs (bool): Apply CVS first. Default: True.
        use_ppmg (bool): Label by PPMG rather than thresholding.
            Default: True.
        alpha (float): Background power of the thresholding. Default: 6
            (SPML, tags).
        threshold (float): Threshold of the thresholding. Default: 0.2
            (SPML, tags).
        cvs_threshold (float): CVS's t. Default: 0.05 (PMM).
        cvs_scale (float): CVS's s. Default: 0.3 (PMM).
        ppmg_alpha (float): Background power of the PPMG foreground.
            Default: 11 (PMM).

    Returns:
        Tensor: long (H, W) labels.
    """
    _check_cams(cams)
    _check_keys(keys, cams.shape[0])
    smoothed = cams
    if use_cvs:
        smoothed = coefficient_of_variation_smoothing(
            cams, threshold=cvs_threshold, scale=cvs_scale
        )
    if use_ppmg:
        foreground = binary_foreground(smoothed, alpha=ppmg_alpha)
        return proportional_pseudo_mask(cams, foreground, keys)
    return cams_to_labels(smoothed, keys, alpha, threshold)
