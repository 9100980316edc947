# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Random walk on embedding affinities (SPML appendix A.4).

The walk of the reference ``pseudo_softmaxrw_crf.py``:

1. Affinity between the unit embeddings of pixels ``i`` and ``j``::

       A_ij = exp(beta * (cos_ij - 1)),  cos_ij = e_i . e_j

   The reference computes ``exp(5 * (cos - 1))`` and raises it to the
   20th power, i.e. ``beta = scale * power = 5 * 20 = 100``.
2. Transition matrix ``T = A / colsum(A)``: every column sums to 1.
3. ``T`` is squared ``num_squarings`` times (``WALK_STEPS = 6``, so
   ``T^64``) and the class scores ``S`` (C, hw) are propagated as
   ``S @ T^(2^k)``: the new score of pixel ``j`` is a weighted average of
   the old scores, weighted by the walk probabilities into ``j``.

Memory and time are quadratic in the number of pixels (one (hw, hw)
matrix per image, and ``num_squarings`` (hw)^3 products), so the walk
runs at reduced resolution: the reference uses H/8 x W/8 of the image.
Callers downsample scores and embeddings first and upsample the result.
"""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

#: Default limit on h * w for :func:`random_walk` (128 x 128 pixels).
DEFAULT_MAX_PIXELS = 128 * 128


def _check_maps(x: Tensor, name: str) -> None:
    """Raise ValueError unless ``x`` is a float (N, C, h, w) tensor."""
    if not isinstance(x, Tensor):
        raise ValueError(f'{name} must be a torch.Tensor, got {type(x)}')
    if x.dim() != 4:
        raise ValueError(
            f'{name} must have shape (N, C, h, w), got {tuple(x.shape)}'
        )
    if not x.is_floating_point():
        raise ValueError(f'{name} must be a float tensor, got {x.dtype}')


def embedding_affinity(
    embeddings: Tensor, beta: float = 100.0, eps: float = 1e-12
) -> Tensor:
    """Pairwise affinities ``exp(beta * (cos - 1))`` of pixel embeddings.

    Args:
        embeddings (Tensor): Embeddings (N, D, h, w), normally unit vectors
            per pixel; they are L2-normalised here anyway.
        beta (float): Concentration, ``scale * power`` of the reference
            (``exp(5 (cos - 1)) ** 20`` is ``beta = 100``).
        eps (float): Norm floor of the normalisation.

    Returns:
        Tensor: Affinities (N, hw, hw), symmetric, in (0, 1], with
        ``A[n, i, j]`` between flattened pixels ``i`` and ``j``.
    """
    _check_maps(embeddings, 'embeddings')
    n, d = embeddings.shape[:2]
    flat = F.normalize(embeddings, dim=1, eps=eps).reshape(n, d, -1)
    cos = torch.bmm(flat.transpose(1, 2), flat)
    return torch.exp(beta * (cos - 1))


def transition_matrix(affinity: Tensor) -> Tensor:
    """Column-normalise affinities into a transition matrix.

    Args:
        affinity (Tensor): Non-negative affinities (N, hw, hw) or (hw, hw).

    Returns:
        Tensor: ``T`` of the same shape, every column summing to 1; an
        all-zero column stays zero (no division by zero).
    """
    colsum = affinity.sum(dim=-2, keepdim=True)
    colsum = torch.where(colsum > 0, colsum, torch.ones_like(colsum))
    return affinity / colsum


def random_walk(
    scores: Tensor,
    embeddings: Tensor,
    beta: float = 100.0,
    num_squarings: int = 6,
    flip_embeddings: Optional[Tensor] = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    power: float = 1.0,
) -> Tensor:
    """Propagate class scores with a random walk on embedding affinities.

    Computes ``scores_flat (N, C, hw) @ T^(2^num_squarings)`` with ``T``
    the column-normalised :func:`embedding_affinity`, batched over images.

    Args:
        scores (Tensor): Class scores (N, C, h, w) at the embedding
            resolution, e.g. softmax probabilities or normalised CAMs.
        embeddings (Tensor): Pixel embeddings (N, D, h, w).
        beta (float): Affinity concentration, see
            :func:`embedding_affinity`. Default 100 (the reference).
        num_squarings (int): Number ``k`` of squarings of ``T``: the walk
            takes ``2^k`` steps (the reference: 6, i.e. ``T^64``; 0 is a
            single step).
        flip_embeddings (Tensor, optional): Embeddings (N, D, h, w) of the
            horizontally flipped image. They are flipped back and their
            affinity is averaged with that of ``embeddings``.
        max_pixels (int): Largest ``h * w`` accepted: memory is (hw)^2 per
            image, so the walk runs at reduced resolution (the reference
            uses H/8 x W/8).
        power (float): With flip averaging, the affinities averaged are
            ``exp(beta / power * (cos - 1))`` and the mean is then raised
            to ``power``. 1 (default) averages ``exp(beta (cos - 1))``;
            20 reproduces the reference, which averages
            ``exp(5 (cos - 1))`` and raises the mean to the 20th power.
            Without flip the result does not depend on ``power``.

    Returns:
        Tensor: Propagated scores (N, C, h, w).
    """
    _check_maps(scores, 'scores')
    _check_maps(embeddings, 'embeddings')
    n, c, h, w = scores.shape
    if embeddings.shape[0] != n or embeddings.shape[2:] != (h, w):
        raise ValueError(
            'scores and embeddings must share N, h and w, got '
            f'{tuple(scores.shape)} and {tuple(embeddings.shape)}'
        )
    if flip_embeddings is not None:
        _check_maps(flip_embeddings, 'flip_embeddings')
        if flip_embeddings.shape != embeddings.shape:
            raise ValueError(
                'flip_embeddings must have the shape of embeddings '
                f'{tuple(embeddings.shape)}, got '
                f'{tuple(flip_embeddings.shape)}'
            )
    if not isinstance(num_squarings, int) or num_squarings < 0:
        raise ValueError(
            f'num_squarings must be a non-negative int, got {num_squarings}'
        )
    if power <= 0:
        raise ValueError(f'power must be positive, got {power}')
    if h * w > max_pixels:
        raise ValueError(
            f'random_walk on {h}x{w} = {h * w} pixels exceeds max_pixels='
            f'{max_pixels}: memory is (h*w)^2 per image. Downsample scores '
            'and embeddings first (the reference walks at H/8 x W/8) and '
            'upsample the result, or raise max_pixels.'
        )

    dtype = torch.promote_types(scores.dtype, embeddings.dtype)
    embeddings = embeddings.to(dtype)
    affinity = embedding_affinity(embeddings, beta / power)
    if flip_embeddings is not None:
        flipped = flip_embeddings.to(dtype).flip(-1)
        affinity = 0.5 * (affinity + embedding_affinity(flipped, beta / power))
    if power != 1:
        affinity = affinity**power
    trans = transition_matrix(affinity)
    del affinity
    for _ in range(num_squarings):
        trans = torch.bmm(trans, trans)
    out = torch.bmm(scores.to(dtype).reshape(n, c, h * w), trans)
    return out.reshape(n, c, h, w)


def restrict_to_classes(scores: Tensor, present: Tensor) -> Tensor:
    """Zero the scores of classes absent from the weak label.

    Args:
        scores (Tensor): Class scores (N, C, h, w).
        present (Tensor): Bool (N, C), True for the classes in the image.

    Returns:
        Tensor: Scores (N, C, h, w) with absent classes set to 0.
    """
    if present.shape != scores.shape[:2]:
        raise ValueError(
            f'present must have shape {tuple(scores.shape[:2])}, got '
            f'{tuple(present.shape)}'
        )
    absent = ~present.bool().to(scores.device)
    return scores.masked_fill(absent[:, :, None, None], 0)


def normalize_by_max(scores: Tensor, eps: float = 1e-12) -> Tensor:
    """Divide every class map of every image by its maximum.

    Args:
        scores (Tensor): Non-negative class scores (N, C, h, w).
        eps (float): Floor of the maximum (all-zero maps stay zero).

    Returns:
        Tensor: Scores (N, C, h, w) with per-image, per-class maximum 1.
    """
    peak = scores.amax(dim=(2, 3), keepdim=True).clamp_min(eps)
    return scores / peak
