# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Fully connected CRF (Krähenbühl & Koltun, 2011) by mean field.

Pixels ``i`` have positions ``p_i = (x_i, y_i)`` (in pixels) and colours
``I_i`` (RGB, 0-255). Two Gaussian kernels::

    K_g(i, j) = exp(-|p_i - p_j|^2 / (2 sxy_g^2))                (position)
    K_b(i, j) = exp(-|p_i - p_j|^2 / (2 sxy_b^2)
                    - |I_i - I_j|^2 / (2 srgb^2))                (bilateral)

with weights ``w_g``, ``w_b`` and the Potts compatibility
``mu(c, c') = [c != c']``. The unary is ``-log P`` with ``P`` the input
probabilities clipped to ``[1e-5, 1]`` (``pydensecrf.utils.
unary_from_softmax``). Mean field starts from ``Q = softmax(log P)`` and
iterates::

    m_c(i) = sum_k w_k sum_{j != i} K_k(i, j) Q_c(j)         (message)
    E_c(i) = sum_{c' != c} m_{c'}(i) = sum_{c'} m_{c'}(i) - m_c(i)
    Q_c(i) <- softmax_c(log P_c(i) - E_c(i))

The torch backend computes these sums exactly (no permutohedral
approximation, no kernel normalisation): O((HW)^2) time per iteration.
The kernel is built ``chunk_size`` rows at a time, never as a full
(HW, HW) matrix when ``HW > chunk_size``, and images above ``max_pixels``
are refused: refinement runs at reduced resolution. With the optional
``pydensecrf`` backend (``pip install pydensecrf`` or ``pydensecrf2``,
not a dependency) the same parameters go to ``DenseCRF2D``, which filters
approximately with a permutohedral lattice and normalises its kernels, so
the two backends agree qualitatively, not numerically.

Reference settings (SPML ``crf.py``): 10 iterations, Gaussian ``sxy=1``,
weight 3; bilateral ``sxy=67``, ``srgb=3``, weight 4.
"""

import math
from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

#: Default limit on H * W for the torch backend (160 x 160 pixels).
DEFAULT_MAX_PIXELS = 160 * 160

#: Probabilities are clipped to [PROB_CLIP, 1] before the log, as in
#: ``pydensecrf.utils.unary_from_softmax``.
PROB_CLIP = 1e-5

_BACKENDS = ('auto', 'torch', 'pydensecrf')


def crf_available() -> bool:
    """Whether the optional ``pydensecrf`` backend can be imported.

    Returns:
        bool: True when ``pydensecrf.densecrf`` imports (installed by the
        ``pydensecrf`` or ``pydensecrf2`` distributions).
    """
    try:
        import pydensecrf.densecrf  # noqa: F401
    except ImportError:
        return False
    return True


def _uses_pydensecrf(backend: str) -> bool:
    """Whether :func:`dense_crf` with ``backend`` runs pydensecrf's
    permutohedral lattice (any image size) rather than the exact torch
    mean field (at most ``max_pixels``)."""
    return backend == 'pydensecrf' or (backend == 'auto' and crf_available())


def _check_inputs(image: Tensor, probs: Tensor) -> None:
    """Raise ValueError unless image (3, H, W) and probs (C, H, W) match."""
    for name, x in (('image', image), ('probs', probs)):
        if not isinstance(x, Tensor):
            raise ValueError(f'{name} must be a torch.Tensor, got {type(x)}')
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(
            f'image must have shape (3, H, W), got {tuple(image.shape)}'
        )
    if probs.dim() != 3 or probs.shape[0] < 1:
        raise ValueError(
            f'probs must have shape (C, H, W), got {tuple(probs.shape)}'
        )
    if image.shape[1:] != probs.shape[1:]:
        raise ValueError(
            'image and probs must share H and W, got '
            f'{tuple(image.shape)} and {tuple(probs.shape)}'
        )
    if not probs.is_floating_point():
        raise ValueError(f'probs must be a float tensor, got {probs.dtype}')


def _pixel_features(image: Tensor, dtype: torch.dtype) -> Tuple[Tensor, ...]:
    """Per-pixel positions (HW, 2) as (x, y) and colours (HW, 3)."""
    _, h, w = image.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=dtype, device=image.device),
        torch.arange(w, dtype=dtype, device=image.device),
        indexing='ij',
    )
    pos = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
    rgb = image.to(dtype).reshape(3, -1).t()
    return pos, rgb


def _sq_dist(a: Tensor, b: Tensor) -> Tensor:
    """Exact squared distances (m, n) between rows of a (m, d), b (n, d)."""
    out = torch.zeros(a.shape[0], b.shape[0], dtype=a.dtype, device=a.device)
    for k in range(a.shape[1]):
        out += (a[:, k, None] - b[None, :, k]) ** 2
    return out


def _kernel_rows(
    pos: Tensor,
    rgb: Tensor,
    start: int,
    stop: int,
    gaussian_sxy: float,
    gaussian_weight: float,
    bilateral_sxy: float,
    bilateral_srgb: float,
    bilateral_weight: float,
) -> Tensor:
    """Rows ``start:stop`` of ``sum_k w_k K_k`` (stop-start, HW), i != j."""
    d_pos = _sq_dist(pos[start:stop], pos)
    kernel = torch.zeros_like(d_pos)
    if gaussian_weight != 0:
        kernel += gaussian_weight * torch.exp(-d_pos / (2 * gaussian_sxy**2))
    if bilateral_weight != 0:
        d_rgb = _sq_dist(rgb[start:stop], rgb)
        kernel += bilateral_weight * torch.exp(
            -d_pos / (2 * bilateral_sxy**2) - d_rgb / (2 * bilateral_srgb**2)
        )
    rows = torch.arange(stop - start, device=kernel.device)
    kernel[rows, rows + start] = 0
    return kernel


def _dense_crf_torch(
    image: Tensor,
    probs: Tensor,
    num_iters: int,
    gaussian_sxy: float,
    gaussian_weight: float,
    bilateral_sxy: float,
    bilateral_srgb: float,
    bilateral_weight: float,
    max_pixels: int,
    chunk_size: int,
) -> Tensor:
    """Exact mean field in torch, see the module docstring."""
    c, h, w = probs.shape
    hw = h * w
    if hw > max_pixels:
        raise ValueError(
            f'dense_crf (torch backend) on {h}x{w} = {hw} pixels exceeds '
            f'max_pixels={max_pixels}: exact message passing is O((H*W)^2).'
            ' Downsample the image and probabilities first (refinement '
            'runs at reduced resolution) and upsample the result, raise '
            "max_pixels, or install pydensecrf (backend='pydensecrf')."
        )
    dtype = probs.dtype
    pos, rgb = _pixel_features(image, dtype)
    log_p = probs.reshape(c, hw).t().clamp(PROB_CLIP, 1).log()
    q = torch.softmax(log_p, dim=1)
    if gaussian_weight == 0 and bilateral_weight == 0:
        return q.t().reshape(c, h, w)

    args = (
        gaussian_sxy,
        gaussian_weight,
        bilateral_sxy,
        bilateral_srgb,
        bilateral_weight,
    )
    starts = list(range(0, hw, chunk_size))
    # One chunk: build the kernel once; otherwise rebuild chunks per
    # iteration so memory stays O(chunk_size * HW).
    full = _kernel_rows(pos, rgb, 0, hw, *args) if len(starts) == 1 else None
    for _ in range(num_iters):
        if full is not None:
            msg = full @ q
        else:
            msg = torch.cat(
                [
                    _kernel_rows(pos, rgb, s, min(s + chunk_size, hw), *args)
                    @ q
                    for s in starts
                ]
            )
        energy = msg.sum(dim=1, keepdim=True) - msg
        q = torch.softmax(log_p - energy, dim=1)
    return q.t().reshape(c, h, w)


def _dense_crf_pydensecrf(
    image: Tensor,
    probs: Tensor,
    num_iters: int,
    gaussian_sxy: float,
    gaussian_weight: float,
    bilateral_sxy: float,
    bilateral_srgb: float,
    bilateral_weight: float,
) -> Tensor:
    """Mean field with ``pydensecrf.densecrf.DenseCRF2D``."""
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as e:
        raise ImportError(
            "dense_crf(backend='pydensecrf') needs the optional package "
            'pydensecrf (pip install pydensecrf, or pydensecrf2); use '
            "backend='torch' or 'auto' without it."
        ) from e
    c, h, w = probs.shape
    p = probs.detach().cpu().double().numpy().reshape(c, -1)
    unary = np.ascontiguousarray(-np.log(np.clip(p, PROB_CLIP, 1.0)))
    rgbim = image.detach().cpu().permute(1, 2, 0).numpy()
    rgbim = np.ascontiguousarray(np.clip(rgbim, 0, 255).astype(np.uint8))
    crf = dcrf.DenseCRF2D(w, h, c)
    crf.setUnaryEnergy(unary.astype(np.float32))
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_weight)
    crf.addPairwiseBilateral(
        sxy=bilateral_sxy,
        srgb=bilateral_srgb,
        rgbim=rgbim,
        compat=bilateral_weight,
    )
    q = np.array(crf.inference(num_iters)).reshape(c, h, w)
    return torch.from_numpy(q).to(device=probs.device, dtype=probs.dtype)


def dense_crf(
    image: Tensor,
    probs: Tensor,
    num_iters: int = 10,
    gaussian_sxy: float = 1.0,
    gaussian_weight: float = 3.0,
    bilateral_sxy: float = 67.0,
    bilateral_srgb: float = 3.0,
    bilateral_weight: float = 4.0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    chunk_size: int = 1024,
    backend: str = 'auto',
) -> Tensor:
    """Refine class probabilities with a fully connected CRF.

    Args:
        image (Tensor): RGB image (3, H, W), uint8 or float, 0-255.
        probs (Tensor): Class probabilities (C, H, W). Scores in [0, 1]
            that do not sum to 1 (e.g. normalised random-walk maps) are
            accepted: the unary is ``-log(clip(probs, 1e-5, 1))``.
        num_iters (int): Mean-field iterations (reference: 10).
        gaussian_sxy (float): Position std of the Gaussian kernel, pixels.
        gaussian_weight (float): Weight of the Gaussian kernel.
        bilateral_sxy (float): Position std of the bilateral kernel.
        bilateral_srgb (float): Colour std of the bilateral kernel.
        bilateral_weight (float): Weight of the bilateral kernel.
        max_pixels (int): Largest ``H * W`` the torch backend accepts
            (exact message passing is O((HW)^2)).
        chunk_size (int): Kernel rows built at a time by the torch backend
            (memory ``chunk_size * H * W`` elements).
        backend (str): ``'torch'`` (exact, in this module; O((HW)^2): 4.4 s
            for a 64 x 64 image with 21 classes on 2 CPU cores),
            ``'pydensecrf'`` (optional package, permutohedral: approximate
            and kernel-normalised; 0.04 s for the same image; both from
            ``tools/benchmark/crf.py``) or ``'auto'``
            (pydensecrf when importable, else torch). Default: 'auto'.

    Returns:
        Tensor: Refined probabilities (C, H, W), summing to 1 over classes,
        dtype and device of ``probs`` (float32 for non-float64 inputs).
    """
    if backend not in _BACKENDS:
        raise ValueError(f'backend must be one of {_BACKENDS}, got {backend}')
    _check_inputs(image, probs)
    if not isinstance(num_iters, int) or num_iters < 0:
        raise ValueError(
            f'num_iters must be a non-negative int, got {num_iters}'
        )
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be positive, got {chunk_size}')
    for name, value in (
        ('gaussian_sxy', gaussian_sxy),
        ('bilateral_sxy', bilateral_sxy),
        ('bilateral_srgb', bilateral_srgb),
    ):
        if value <= 0:
            raise ValueError(f'{name} must be positive, got {value}')
    if probs.dtype != torch.float64:
        probs = probs.float()
    kernel_args = (
        gaussian_sxy,
        gaussian_weight,
        bilateral_sxy,
        bilateral_srgb,
        bilateral_weight,
    )
    if _uses_pydensecrf(backend):
        return _dense_crf_pydensecrf(image, probs, num_iters, *kernel_args)
    return _dense_crf_torch(
        image, probs, num_iters, *kernel_args, max_pixels, chunk_size
    )


def fit_size(size: Tuple[int, int], max_pixels: int) -> Tuple[int, int]:
    """``size`` scaled down (aspect kept) to at most ``max_pixels``."""
    h, w = size
    if h * w <= max_pixels:
        return h, w
    scale = math.sqrt(max_pixels / (h * w))
    return max(1, int(h * scale)), max(1, int(w * scale))


def resize_map(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """Bilinear resize of a (C, h, w) map."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(
        x[None].float(), size=size, mode='bilinear', align_corners=False
    )[0]


def dense_crf_downsampled(
    image: Tensor, scores: Tensor, max_pixels: int = 128 * 128, **kwargs
) -> Tensor:
    """:func:`dense_crf` at a reduced resolution, for images larger than
    exact message passing affords: image and scores are resized (aspect
    kept) to at most ``max_pixels`` pixels, the scores normalised to
    probabilities, refined, and upsampled back.

    Args:
        image (Tensor): RGB image (3, H, W), 0-255.
        scores (Tensor): Non-negative class scores (C, h, w), any size.
        max_pixels (int): Largest number of pixels the CRF runs at.
        **kwargs: :func:`dense_crf` arguments.

    Returns:
        Tensor: (C, H, W) refined probabilities at the image's size.
    """
    h, w = image.shape[1:]
    size = fit_size((h, w), max_pixels)
    probs = resize_map(scores, size)
    probs = probs / probs.sum(0, keepdim=True).clamp(min=1e-12)
    refined = dense_crf(
        resize_map(image, size),
        probs,
        max_pixels=size[0] * size[1],
        **kwargs,
    )
    return resize_map(refined, (h, w))


def crf_label_map(
    image: Tensor,
    labels: Tensor,
    num_labels: int,
    gt_prob: float = 0.7,
    num_iters: int = 10,
    gaussian_sxy: float = 3.0,
    gaussian_weight: float = 3.0,
    bilateral_sxy: float = 50.0,
    bilateral_srgb: float = 5.0,
    bilateral_weight: float = 10.0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    backend: str = 'auto',
) -> Tensor:
    """A hard label map refined by a dense CRF, IRN's
    ``crf_inference_label`` (Ahn, Cho & Kwak, CVPR 2019).

    Each pixel's unary gives its label probability ``gt_prob`` and every
    other label ``(1 - gt_prob) / (num_labels - 1)`` (pydensecrf's
    ``unary_from_labels``); mean field with :func:`dense_crf` moves the
    labels to the image's colour edges. The defaults are IRN's: 10
    iterations, Gaussian ``sxy=3``, weight 3; bilateral ``sxy=50``,
    ``srgb=5``, weight 10. The torch backend runs images above
    ``max_pixels`` at a reduced resolution (:func:`dense_crf_downsampled`).

    Args:
        image (Tensor): RGB image (3, H, W), 0-255.
        labels (Tensor): Integer (H, W) labels in ``[0, num_labels)``.
        num_labels (int): Number of labels L >= 1.
        gt_prob (float): Probability of a pixel's own label, in
            ``(1 / L, 1)``. Default: 0.7 (IRN).
        num_iters (int): Mean-field iterations.
        gaussian_sxy (float): Position std of the Gaussian kernel.
        gaussian_weight (float): Weight of the Gaussian kernel.
        bilateral_sxy (float): Position std of the bilateral kernel.
        bilateral_srgb (float): Colour std of the bilateral kernel.
        bilateral_weight (float): Weight of the bilateral kernel.
        max_pixels (int): Largest ``H * W`` the torch backend refines at
            full resolution.
        backend (str): Of :func:`dense_crf`. Default: 'auto'.

    Returns:
        Tensor: long (H, W) refined labels in ``[0, num_labels)``.
    """
    if labels.dim() != 2 or labels.shape != image.shape[1:]:
        raise ValueError(
            f'labels must be (H, W) of the image {tuple(image.shape)}, got '
            f'{tuple(labels.shape)}'
        )
    if labels.dtype.is_floating_point:
        raise ValueError(f'labels must be integers, got {labels.dtype}')
    if num_labels < 1:
        raise ValueError(f'num_labels must be >= 1, got {num_labels}')
    labels = labels.long()
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_labels):
        raise ValueError(
            f'labels must lie in [0, {num_labels}), got '
            f'[{int(labels.min())}, {int(labels.max())}]'
        )
    if num_labels == 1:
        return labels.clone()
    if not 1.0 / num_labels < gt_prob < 1.0:
        raise ValueError(
            f'gt_prob must lie in (1/{num_labels}, 1), got {gt_prob}'
        )
    probs = torch.full(
        (num_labels, *labels.shape),
        (1.0 - gt_prob) / (num_labels - 1),
        device=labels.device,
    )
    probs.scatter_(0, labels[None], gt_prob)
    refined = dense_crf_downsampled(
        image,
        probs,
        max_pixels=labels.numel() if _uses_pydensecrf(backend) else max_pixels,
        num_iters=num_iters,
        gaussian_sxy=gaussian_sxy,
        gaussian_weight=gaussian_weight,
        bilateral_sxy=bilateral_sxy,
        bilateral_srgb=bilateral_srgb,
        bilateral_weight=bilateral_weight,
        backend=backend,
    )
    return refined.argmax(0)
