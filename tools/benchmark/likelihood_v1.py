# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The pixel-to-segment likelihood as it was before the table-based
implementation (commit cf23640), kept verbatim as the baseline of
``likelihood.py``: per-pair boolean masks built with
``torch.where``, the similarities recomputed in backward. Not part of the
package.

:func:`pixel_segment_nll` takes the package's arguments (a memory bank is
appended to the prototypes, as the relations did then);
:func:`use_likelihood` swaps it into the relations.
"""

import contextlib
from typing import Iterator, List, Optional, Tuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from mmseg_spml.models.losses.segsort.relations import base
from mmseg_spml.utils.device import autocast_disabled

#: Largest concentration: cosines span [-1, 1], so after subtracting the
#: row maximum, exponents reach -2 kappa, and float32's exp underflows
#: below about -87.
MAX_CONCENTRATION = 40.0


def _masks(
    own: Tensor,
    pix_labels: Tensor,
    proto_labels: Tensor,
    pix_groups: Optional[Tensor],
    proto_groups: Optional[Tensor],
) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Masks of a chunk of pixels.

    Returns:
        tuple[Tensor, ...]: bool (chunk, S) positives other than the own
        segment and negatives, bool (chunk, ) "has another positive", and
        long (chunk, ) own segment, -1 where it does not count.
    """
    if pix_labels.dim() == 2:
        overlap = pix_labels.float() @ proto_labels.float().t()
        pos = overlap > 0
    else:
        pos = pix_labels[:, None] == proto_labels[None, :]
    neg = ~pos
    if pix_groups is not None:
        same = pix_groups[:, None] == proto_groups[None, :]
        pos &= same
        neg &= same
        own_group = proto_groups[own.clamp(min=0)] == pix_groups
        own = torch.where(own_group, own, torch.full_like(own, -1))
    has_own = own >= 0
    rows = torch.nonzero(has_own).squeeze(1)
    pos[rows, own[rows]] = False
    return pos, neg, pos.any(1), own


def _row_sums(
    a: Tensor, other_pos: Tensor, neg: Tensor, has_other: Tensor, own: Tensor
) -> Tuple[Tensor, Tensor]:
    """num (chunk, ) and N (chunk, ) of the scaled exponentials ``a``."""
    zero = a.new_zeros(())
    own_a = a.gather(1, own.clamp(min=0)[:, None]).squeeze(1)
    own_a = torch.where(own >= 0, own_a, zero)
    num = torch.where(has_other, torch.where(other_pos, a, zero).sum(1), own_a)
    return num, torch.where(neg, a, zero).sum(1)


def _scaled_exponentials(
    emb: Tensor, protos: Tensor, kappa: float, peak: Optional[Tensor] = None
) -> Tuple[Tensor, Tensor]:
    """``exp(kappa e.mu - peak)`` (chunk, S) in float32 and the row peaks
    (chunk, 1) (the row maxima of ``kappa e.mu`` unless given)."""
    logits = (emb.float() @ protos.float().t()).mul_(kappa)
    if peak is None:
        peak = logits.amax(1, keepdim=True)
    return logits.sub_(peak).exp_(), peak


class _ChunkNLL(torch.autograd.Function):
    """Per-pixel NLL of a chunk (0 where a pixel has no numerator) and
    whether it has one; recomputes the similarities in backward."""

    @staticmethod
    def forward(ctx, emb, protos, *labels_and_groups):
        """``labels_and_groups``: own, pixel labels, prototype labels,
        pixel groups, prototype groups (as :func:`_masks`), then kappa."""
        *labels_and_groups, concentration = labels_and_groups
        with autocast_disabled(emb.device):
            a, peak = _scaled_exponentials(emb, protos, concentration)
            other_pos, neg, has_other, own = _masks(*labels_and_groups)
            num, negs = _row_sums(a, other_pos, neg, has_other, own)
            has_num = num > 0
            safe_num = torch.where(has_num, num, torch.ones_like(num))
            nll = torch.where(has_num, torch.log1p(negs / safe_num), 0.0)
        ctx.save_for_backward(
            emb, protos, *labels_and_groups, peak, safe_num, negs, has_num
        )
        ctx.concentration = concentration
        ctx.mark_non_differentiable(has_num)
        return nll, has_num

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_nll, _):
        with autocast_disabled(grad_nll.device):
            return _ChunkNLL._backward(ctx, grad_nll)

    @staticmethod
    def _backward(ctx, grad_nll):
        """Gradients w.r.t. the embeddings and prototypes (float32 maths,
        returned in the inputs' dtypes)."""
        emb, protos, *labels_and_groups, peak, num, negs, has_num = (
            ctx.saved_tensors
        )
        kappa = ctx.concentration
        a, _ = _scaled_exponentials(emb, protos, kappa, peak)
        other_pos, neg, has_other, own = _masks(*labels_and_groups)
        g = torch.where(has_num, grad_nll.float(), 0.0) * kappa
        total = num + negs
        neg_coef = g / total
        num_coef = -g * negs / (total * num)
        zero = a.new_zeros(())
        coef = torch.where(neg, neg_coef[:, None], zero)
        coef = torch.where(
            other_pos & has_other[:, None], num_coef[:, None], coef
        )
        own_only = torch.nonzero(~has_other & (own >= 0)).squeeze(1)
        # The own segment may be a negative too (no shared class).
        coef[own_only, own[own_only]] += num_coef[own_only]
        grad_logits = a.mul_(coef)
        grad_emb = grad_protos = None
        if ctx.needs_input_grad[0]:
            grad_emb = (grad_logits @ protos.float()).to(emb.dtype)
        if ctx.needs_input_grad[1]:
            grad_protos = (grad_logits.t() @ emb.float()).to(protos.dtype)
        return (grad_emb, grad_protos) + (None,) * 6


def _sort_by_group(
    groups: Tensor, *tensors: Optional[Tensor]
) -> Tuple[Tensor, ...]:
    """Stable sort of ``groups`` and the rows of ``tensors`` by group;
    also returns the permutation."""
    groups, order = torch.sort(groups, stable=True)
    return (groups, order) + tuple(t[order] for t in tensors)


def _group_columns(
    pix_groups: Tensor, proto_groups: Tensor, starts: range, chunk_size: int
) -> List[Tuple[int, int]]:
    """Column range of the prototypes of each chunk's groups (both sorted
    by group), so a chunk never looks at other groups' prototypes."""
    first = pix_groups[list(starts)]
    last_idx = [min(s + chunk_size, len(pix_groups)) - 1 for s in starts]
    last = pix_groups[last_idx]
    lo = torch.searchsorted(proto_groups, first, right=False)
    hi = torch.searchsorted(proto_groups, last, right=True)
    return list(zip(lo.tolist(), hi.tolist()))


def _pixel_segment_nll(
    embeddings: Tensor,
    prototypes: Tensor,
    own: Tensor,
    pixel_labels: Tensor,
    proto_labels: Tensor,
    concentration: float,
    pixel_groups: Optional[Tensor] = None,
    proto_groups: Optional[Tensor] = None,
    chunk_size: int = 4096,
) -> Tuple[Tensor, Tensor]:
    """Mean pixel-to-segment negative log-likelihood.

    Segment ``j`` is a positive of pixel ``i`` if their labels are equal
    (or, with multi-hot labels, share a class) and a negative otherwise;
    with groups, only segments of the pixel's group count at all (e.g.
    the segments of its own image), its own segment included. Groups are
    computed block by block: pixels and prototypes are sorted by group and
    each chunk of pixels is compared with its groups' prototypes only, so
    the cost is that of the groups' blocks, not of all pairs.

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
        chunk_size (int): Pixels per chunk; memory grows with
            ``chunk_size x S``. Default: 4096.

    Returns:
        tuple[Tensor, Tensor]: The mean loss (a scalar, 0 when no pixel
        contributes, still connected to the graph) and the number of
        contributing pixels.
    """
    if (pixel_groups is None) != (proto_groups is None):
        raise ValueError('pixel_groups and proto_groups go together')
    if not 0 < concentration <= MAX_CONCENTRATION:
        raise ValueError(
            f'concentration must be in (0, {MAX_CONCENTRATION}], got '
            f'{concentration}'
        )
    # Connected to the inputs even when nothing contributes (DDP needs it).
    total = 0 * embeddings.sum().float() + 0 * prototypes.sum().float()
    count = torch.zeros((), dtype=torch.long, device=embeddings.device)
    num_pixels, num_protos = embeddings.shape[0], prototypes.shape[0]
    starts = range(0, num_pixels if num_protos else 0, chunk_size)
    if pixel_groups is not None:
        pixel_groups, _, embeddings, own, pixel_labels = _sort_by_group(
            pixel_groups, embeddings, own, pixel_labels
        )
        proto_groups, order, prototypes, proto_labels = _sort_by_group(
            proto_groups, prototypes, proto_labels
        )
        rank = torch.empty_like(order)
        rank[order] = torch.arange(num_protos, device=order.device)
        own = torch.where(own >= 0, rank[own.clamp(min=0)], own)
        columns = _group_columns(
            pixel_groups, proto_groups, starts, chunk_size
        )
    else:
        columns = [(0, num_protos)] * len(starts)
    for start, (lo, hi) in zip(starts, columns):
        end = start + chunk_size
        if hi <= lo:
            continue
        chunk_own = own[start:end]
        args = (
            embeddings[start:end],
            prototypes[lo:hi],
            torch.where(
                (chunk_own >= lo) & (chunk_own < hi),
                chunk_own - lo,
                torch.full_like(chunk_own, -1),
            ),
            pixel_labels[start:end],
            proto_labels[lo:hi],
            None if pixel_groups is None else pixel_groups[start:end],
            None if proto_groups is None else proto_groups[lo:hi],
            concentration,
        )
        nll, has_num = _ChunkNLL.apply(*args)
        total = total + nll.sum()
        count = count + has_num.sum()
    return total / count.clamp(min=1), count


def pixel_segment_nll(
    embeddings: Tensor,
    prototypes: Tensor,
    own: Tensor,
    pixel_labels: Tensor,
    proto_labels: Tensor,
    concentration: float,
    pixel_groups: Optional[Tensor] = None,
    proto_groups: Optional[Tensor] = None,
    memory_protos: Optional[Tensor] = None,
    memory_labels: Optional[Tensor] = None,
    chunk_size: Optional[int] = None,
) -> Tuple[Tensor, Tensor]:
    """The baseline with the package's signature: memory prototypes are
    appended (detached) to the prototypes; chunks of 4096 pixels unless
    ``chunk_size`` is given (its default then)."""
    if memory_protos is not None:
        prototypes = torch.cat([prototypes, memory_protos.detach()])
        proto_labels = torch.cat(
            [proto_labels, memory_labels.to(proto_labels)]
        )
    return _pixel_segment_nll(
        embeddings,
        prototypes,
        own,
        pixel_labels,
        proto_labels,
        concentration,
        pixel_groups,
        proto_groups,
        chunk_size or 4096,
    )


@contextlib.contextmanager
def use_likelihood(name: str) -> Iterator[None]:
    """Within the block, the relations use the likelihood ``name``:
    ``'current'`` (the package's) or ``'v1'`` (this baseline)."""
    if name not in ('current', 'v1'):
        raise ValueError(f"likelihood must be 'current' or 'v1', got {name!r}")
    saved = base.pixel_segment_nll
    if name == 'v1':
        base.pixel_segment_nll = pixel_segment_nll
    try:
        yield
    finally:
        base.pixel_segment_nll = saved
