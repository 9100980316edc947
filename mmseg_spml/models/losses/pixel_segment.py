# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The pixel-to-segment contrastive likelihood of SPML (eq. 1-4), chunked.

For pixel ``i`` (unit embedding ``e_i``) with its own segment ``s(i)`` and
prototypes ``mu_j``, with ``a_ij = exp(kappa * e_i . mu_j)``::

    P_i = sum_{j in Pos(i), j != s(i)} a_ij     (other positive segments)
    num_i = P_i if Pos(i) has a segment besides s(i), else a_{i, s(i)}
    N_i = sum_{j in Neg(i)} a_ij
    L_i = -log(num_i / (num_i + N_i)) = softplus(log N_i - log num_i)

The loss is the mean of ``L_i`` over the pixels that have a numerator.
Everything is computed in log space (log-sum-exp with the maximum
subtracted, so nothing overflows in fp16/bf16), in float32, over chunks of
pixels; with ``checkpoint=True`` each chunk is recomputed in the backward
pass, so at most one chunk of the pixels x prototypes matrix is alive.
"""

from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint as recompute

NEG_INF = float('-inf')


def _relation_masks(
    pix_labels: Tensor,
    proto_labels: Tensor,
    multi_hot: bool,
    pix_groups: Optional[Tensor],
    proto_groups: Optional[Tensor],
) -> Tuple[Tensor, Tensor]:
    """Positive and negative masks (chunk, S) of a chunk of pixels."""
    if multi_hot:
        overlap = pix_labels.float() @ proto_labels.float().t()
        pos, neg = overlap > 0, overlap == 0
    else:
        pos = pix_labels[:, None] == proto_labels[None, :]
        neg = ~pos
    if pix_groups is not None:
        same = pix_groups[:, None] == proto_groups[None, :]
        pos, neg = pos & same, neg & same
    return pos, neg


def _masked_logsumexp(logits: Tensor, mask: Tensor) -> Tensor:
    """Row-wise log-sum-exp over ``mask``; ``-inf`` for empty rows.

    Unlike ``torch.logsumexp`` on ``-inf``-filled rows, empty rows give
    zero (not NaN) gradients.
    """
    peak = logits.detach().masked_fill(~mask, NEG_INF).amax(1, keepdim=True)
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    sums = torch.exp((logits - peak).masked_fill(~mask, NEG_INF)).sum(1)
    nonempty = sums > 0
    safe = torch.where(nonempty, sums, torch.ones_like(sums))
    return torch.where(
        nonempty,
        torch.log(safe) + peak.squeeze(1),
        torch.full_like(sums, NEG_INF),
    )


def _chunk_nll(
    emb: Tensor,
    protos: Tensor,
    own: Tensor,
    pix_labels: Tensor,
    proto_labels: Tensor,
    pix_groups: Optional[Tensor],
    proto_groups: Optional[Tensor],
    concentration: float,
    multi_hot: bool,
) -> Tensor:
    """Per-pixel NLL of a chunk; NaN-free, ``-inf`` marks no numerator."""
    logits = concentration * (emb.float() @ protos.float().t())  # (C, S)
    pos, neg = _relation_masks(
        pix_labels, proto_labels, multi_hot, pix_groups, proto_groups
    )
    cols = torch.arange(protos.shape[0], device=emb.device)
    is_own = cols[None, :] == own[:, None]
    other_pos = pos & ~is_own
    has_other = other_pos.any(1)
    # The own segment is the numerator only when no other positive exists.
    num_mask = torch.where(has_other[:, None], other_pos, is_own)
    lse_num = _masked_logsumexp(logits, num_mask)
    lse_neg = _masked_logsumexp(logits, neg)
    has_num = has_other | (own >= 0)
    # softplus(neg - num) = -log(num / (num + neg)); 0 without negatives.
    diff = torch.where(
        has_num, lse_neg - lse_num, torch.full_like(lse_neg, NEG_INF)
    )
    nll = torch.nn.functional.softplus(diff)
    return torch.where(has_num, nll, torch.full_like(nll, NEG_INF))


def pixel_segment_nll(
    embeddings: Tensor,
    prototypes: Tensor,
    own: Tensor,
    pixel_labels: Tensor,
    proto_labels: Tensor,
    concentration: float,
    pixel_groups: Optional[Tensor] = None,
    proto_groups: Optional[Tensor] = None,
    chunk_size: int = 4096,
    checkpoint: bool = True,
) -> Tuple[Tensor, Tensor]:
    """Mean pixel-to-segment negative log-likelihood.

    Segment ``j`` is a positive of pixel ``i`` if their labels are equal
    (or, with multi-hot labels, share a class) and a negative otherwise;
    with groups, only segments of the pixel's group count at all (e.g.
    the segments of its own image).

    Args:
        embeddings (Tensor): (P, D) unit pixel embeddings.
        prototypes (Tensor): (S, D) unit segment prototypes.
        own (Tensor): long (P, ) index of each pixel's own segment in
            ``prototypes``, -1 if it is not among them.
        pixel_labels (Tensor): long (P, ) labels, or (P, C) multi-hot.
        proto_labels (Tensor): long (S, ) labels, or (S, C) multi-hot.
        concentration (float): kappa of the von Mises-Fisher likelihood.
        pixel_groups (Tensor, optional): long (P, ) group of each pixel.
            Default: None.
        proto_groups (Tensor, optional): long (S, ) group of each
            prototype. Default: None.
        chunk_size (int): Pixels per chunk. Default: 4096.
        checkpoint (bool): Recompute each chunk in the backward pass (only
            used when gradients are needed). Default: True.

    Returns:
        tuple[Tensor, Tensor]: The mean loss (a scalar, 0 when no pixel
        contributes, still connected to the graph) and the number of
        contributing pixels.
    """
    multi_hot = pixel_labels.dim() == 2
    if (pixel_groups is None) != (proto_groups is None):
        raise ValueError('pixel_groups and proto_groups go together')
    total = embeddings.new_zeros((), dtype=torch.float32)
    count = torch.zeros((), dtype=torch.long, device=embeddings.device)
    use_checkpoint = (
        checkpoint
        and torch.is_grad_enabled()
        and (embeddings.requires_grad or prototypes.requires_grad)
    )
    num_protos = prototypes.shape[0]
    for start in range(
        0, embeddings.shape[0] if num_protos else 0, chunk_size
    ):
        end = start + chunk_size
        args = (
            embeddings[start:end],
            prototypes,
            own[start:end],
            pixel_labels[start:end],
            proto_labels,
            None if pixel_groups is None else pixel_groups[start:end],
            proto_groups,
            concentration,
            multi_hot,
        )
        if use_checkpoint:
            nll = recompute(_chunk_nll, *args, use_reentrant=False)
        else:
            nll = _chunk_nll(*args)
        valid = torch.isfinite(nll)
        total = total + torch.where(valid, nll, torch.zeros_like(nll)).sum()
        count = count + valid.sum()
    # Connected to the inputs even when nothing contributes (DDP needs it).
    total = total + 0 * embeddings.sum() + 0 * prototypes.sum()
    return total / count.clamp(min=1), count
