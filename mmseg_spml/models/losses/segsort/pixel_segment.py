# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The pixel-to-segment contrastive likelihood of SPML (eq. 1-4), chunked.

For pixel ``i`` (unit embedding ``e_i``) with its own segment ``s(i)`` and
prototypes ``mu_j``, with ``a_ij = exp(kappa * e_i . mu_j)``::

    P_i = sum_{j in Pos(i), j != s(i)} a_ij     (other positive segments)
    num_i = P_i if Pos(i) has a segment besides s(i), else a_{i, s(i)}
    N_i = sum_{j in Neg(i)} a_ij
    L_i = -log(num_i / (num_i + N_i)) = log1p(N_i / num_i)

The loss is the mean of ``L_i`` over the pixels that have a numerator.

How it is computed (the matrix products are the floor; everything else is
kept to a few passes over one chunk):

- **Tables, not pair masks.** Whether segment ``j`` is a positive or a
  negative of pixel ``i`` depends only on their (group, label) *keys*: a
  relation has a handful of them (the batch's tag sets, its classes, or
  its (image, superpixel) pairs). Pixels and prototypes are reduced to key
  ids once, positives and negatives become two small (pixel keys, segment
  keys) tables, and the prototypes are sorted by key, so that per chunk
  the exponentials are summed over each key's rows and the gradient
  coefficients are one row per key, broadcast. The own segment, the only
  per-pixel exception, is taken out of the sums and handled alone.
- **Gradients in the forward pass.** The loss is a sum of per-pixel terms
  whose gradients w.r.t. the logits are known in closed form
  (``a_ij / (num_i + N_i)`` for negatives, ``-a_ij N_i / ((num_i + N_i)
  num_i)`` for the numerator's segments), so each chunk's gradients are
  accumulated while its exponentials are alive and backward only scales
  them: three matrix products per chunk (similarities, then the gradients
  of the embeddings and of the prototypes), no recomputation, and the
  working memory of one chunk (``chunk_size x S`` floats) whatever the
  number of pixels. Under ``torch.no_grad``, or for inputs that need no
  gradient, that work is skipped.
- **Stable in float32.** Each pixel's exponentials are scaled by
  ``exp(-kappa |e_i| max_j |mu_j|)``, a bound of its largest logit
  (Cauchy-Schwarz), folded into the similarity product as an extra
  column, so nothing overflows; for unit vectors the exponents stay above
  ``-2 kappa >= -80``, inside float32's normal range (hence
  :data:`MAX_CONCENTRATION`). Similarities and sums are float32 with
  autocast off (bfloat16 would round cosines by up to 2^-8, i.e. the
  exponentials by ~6% at kappa = 16).
- **Blocks by group.** With groups (e.g. images), pixels and prototypes
  are sorted by group and each chunk of pixels meets its groups'
  prototypes only, so the cost is that of the groups' blocks.
"""

from typing import List, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from mmseg_spml.utils.device import autocast_disabled

#: Largest concentration: cosines span [-1, 1], so after subtracting the
#: bound of the row maximum, exponents reach -2 kappa, and float32's
#: normal range ends at about -87.
MAX_CONCENTRATION = 40.0

#: Fewest prototypes per key, on average, for which a block is reduced and
#: scaled key by key (one call per key over its rows); below, by one-hot
#: products (e.g. superpixel keys with a few segments each).
_MIN_KEY_ROWS = 32


class _Relation(NamedTuple):
    """Positives and negatives as keys and tables (inputs sorted by key).

    Attributes:
        pix_key (Tensor): long (P, ) key of each pixel.
        proto_key (Tensor): long (S, ) key of each prototype, sorted.
        pos (Tensor): float (U, K), 1 where pixel key ``u`` counts segment
            key ``k`` as a positive.
        neg (Tensor): float (U, K), 1 for negatives (0 in both: another
            group).
        own (Tensor): long (P, ) own segment, -1 where it does not count
            (none, or in another group).
        own_neg (Tensor): float (P, ), 1 if it is a negative.
        has_other (Tensor): bool (P, ), a positive besides the own segment.
    """

    pix_key: Tensor
    proto_key: Tensor
    pos: Tensor
    neg: Tensor
    own: Tensor
    own_neg: Tensor
    has_other: Tensor


class _Block(NamedTuple):
    """A chunk of pixels and the prototypes it meets.

    Attributes:
        rows (slice): The chunk's pixels.
        cols (slice): Its prototypes (those of its group).
        keys (slice): The segment keys of ``cols``.
        runs (list[tuple[int, int, int]]): ``(start, stop, key)`` of the
            runs of one key in ``cols`` (relative to ``cols.start`` and
            ``keys.start``); a key has one run, or two with a memory.
        trainable (int): Leading prototypes of ``cols`` that need
            gradients (the others are memory).
    """

    rows: slice
    cols: slice
    keys: slice
    runs: List[Tuple[int, int, int]]
    trainable: int


def _row_ids(rows: Tensor) -> Tensor:
    """Id (n, ) of each distinct row of the long (n, L) ``rows``, numbered
    in the rows' lexicographic order, by successive 1-D ``torch.unique``
    over the columns (``unique(dim=0)`` compares rows one at a time and is
    orders of magnitude slower)."""
    ids = torch.zeros_like(rows[:, 0])
    for col in rows.unbind(1):
        _, col_ids = torch.unique(col, return_inverse=True)
        _, ids = torch.unique(
            ids * (int(col_ids.max()) + 1) + col_ids, return_inverse=True
        )
    return ids


def _keys(labels: Tensor, groups: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
    """Key id (n, ) of each (group, label), ordered by group first, and
    the keys' rows (m, 1 + L): the group (0 without groups), then the
    label or the multi-hot labels (packed 62 classes to an int64 while the
    keys are found)."""
    if labels.dim() == 1:
        rows = labels[:, None].long()
    else:
        bits = labels.long().split(62, dim=1)
        rows = torch.stack(
            [(b << torch.arange(b.shape[1], device=b.device)).sum(1)
             for b in bits],
            dim=1,
        )  # fmt: skip
    group = (
        torch.zeros_like(rows[:, :1])
        if groups is None
        else groups[:, None].long()
    )
    ids = _row_ids(torch.cat([group, rows], dim=1))
    n = len(ids)
    first = torch.full(
        (int(ids.max()) + 1,), n, dtype=torch.long, device=ids.device
    ).scatter_reduce_(0, ids, torch.arange(n, device=ids.device), 'amin')
    label_rows = labels[first].reshape(len(first), -1).long()
    return ids, torch.cat([group[first], label_rows], dim=1)


def _tables(
    pix_rows: Tensor, proto_rows: Tensor, multi_hot: bool
) -> Tuple[Tensor, Tensor]:
    """Float (U, K) positive and negative tables of the keys' rows (see
    :func:`_keys`): same group, and equal labels or a shared class."""
    same = pix_rows[:, None, 0] == proto_rows[None, :, 0]
    if multi_hot:
        overlap = pix_rows[:, 1:].float() @ proto_rows[:, 1:].float().t()
        related = overlap > 0
    else:
        related = pix_rows[:, None, 1] == proto_rows[None, :, 1]
    return (related & same).float(), (~related & same).float()


def _relation(
    own: Tensor,
    pix_key: Tensor,
    pix_rows: Tensor,
    proto_key: Tensor,
    proto_rows: Tensor,
    multi_hot: bool,
) -> _Relation:
    """The :class:`_Relation` of the keys (see :func:`_keys`); ``own``
    indexes the (sorted) prototypes."""
    pos, neg = _tables(pix_rows, proto_rows, multi_hot)
    counted = (own >= 0).float()
    own_key = proto_key[own.clamp(min=0)]
    own_pos = pos[pix_key, own_key] * counted
    own_neg = neg[pix_key, own_key] * counted
    own = torch.where(own_pos + own_neg > 0, own, torch.full_like(own, -1))
    per_key = torch.bincount(proto_key, minlength=len(proto_rows)).float()
    has_other = (pos @ per_key)[pix_key] - own_pos > 0
    return _Relation(pix_key, proto_key, pos, neg, own, own_neg, has_other)


def _blocks(
    pix_groups: Optional[Tensor],
    proto_groups: Optional[Tensor],
    proto_key: Tensor,
    constant: Tensor,
    num_pixels: int,
    chunk_size: int,
) -> List[_Block]:
    """The chunks: with groups, each chunk of pixels lies in one group and
    meets that group's prototypes only; blocks without prototypes are
    dropped.

    Args:
        pix_groups (Tensor, optional): long (P, ) sorted groups.
        proto_groups (Tensor, optional): long (S, ) sorted groups.
        proto_key (Tensor): long (S, ) segment keys, sorted by group, then
            ``constant``, then key (keys are numbered by group first).
        constant (Tensor): bool (S, ), memory prototypes (no gradient).
        num_pixels (int): P.
        chunk_size (int): Pixels per chunk.
    """
    if not len(proto_key):
        return []
    if pix_groups is None:
        parts = [(0, num_pixels, 0, len(proto_key))]
    else:
        groups, sizes = torch.unique_consecutive(
            pix_groups, return_counts=True
        )
        ends = torch.cumsum(sizes, 0)
        lo = torch.searchsorted(proto_groups, groups)
        hi = torch.searchsorted(proto_groups, groups, right=True)
        parts = zip(
            (ends - sizes).tolist(), ends.tolist(), lo.tolist(), hi.tolist()
        )
    run_keys, run_sizes = torch.unique_consecutive(
        proto_key * 2 + constant, return_counts=True
    )
    run_ends = torch.cumsum(run_sizes, 0).tolist()
    run_keys = (run_keys // 2).tolist()
    keys = proto_key.tolist()
    trainable = torch.cumsum(~constant, 0).tolist()
    blocks, r = [], 0
    for start, stop, lo, hi in parts:
        if hi <= lo:
            continue
        k0 = min(keys[lo:hi])
        k1 = max(keys[lo:hi]) + 1
        runs = []
        while r < len(run_ends) and run_ends[r] <= hi:
            if run_ends[r] > lo:
                begin = run_ends[r - 1] if r else 0
                runs.append((begin - lo, run_ends[r] - lo, run_keys[r] - k0))
            r += 1
        n_train = trainable[hi - 1] - (trainable[lo - 1] if lo else 0)
        for s in range(start, stop, chunk_size):
            blocks.append(
                _Block(
                    slice(s, min(s + chunk_size, stop)),
                    slice(lo, hi),
                    slice(k0, k1),
                    runs,
                    n_train,
                )
            )
    return blocks


def _chunk(
    emb: Tensor,
    protos: Tensor,
    rel: _Relation,
    block: _Block,
    kappa: float,
    grads: Tuple[Optional[Tensor], Optional[Tensor]],
    work: Tensor,
) -> Tuple[Tensor, Tensor]:
    """Loss terms of a block's pixels; their gradients w.r.t. the float32
    inputs (up to the upstream factor) go into ``grads`` ((P, D) and
    (S, D) buffers, or None).

    The block's exponentials, (segments, pixels), live in ``work``, a flat
    buffer of at least the largest block's size reused from chunk to
    chunk: a fresh buffer that size costs as much to map as the matrix
    product that fills it.

    Returns:
        tuple[Tensor, Tensor]: Sum of the chunk's ``L_i`` and the number of
        pixels with a numerator.
    """
    rows, cols = block.rows, block.cols
    e, mu = emb[rows], protos[cols]
    pix_key = rel.pix_key[rows]
    pos = rel.pos[:, block.keys][pix_key]  # (chunk, keys)
    neg = rel.neg[:, block.keys][pix_key]
    own_neg = rel.own_neg[rows]
    has_other = rel.has_other[rows]

    # kappa mu_j . e_i - peak_i in one product, [mu, 1] . [kappa e, -peak],
    # with peak_i = kappa |e_i| max_j |mu_j| >= every logit of pixel i.
    peak = (kappa * mu.norm(dim=1).amax()) * e.norm(dim=1)
    a = work[: len(mu) * len(e)].view(len(mu), len(e))
    torch.mm(
        torch.cat([mu, torch.ones_like(mu[:, :1])], dim=1),
        torch.cat([kappa * e, -peak[:, None]], dim=1).t(),
        out=a,
    ).exp_()
    with_own = torch.nonzero(rel.own[rows] >= 0).squeeze(1)
    own_rows = rel.own[rows][with_own] - cols.start
    own_a = torch.zeros_like(peak)
    own_a[with_own] = a[own_rows, with_own]
    a[own_rows, with_own] = 0
    # Per-key sums (own excluded): over each key's rows when they are long
    # enough to amortise one call per key, else by a one-hot product.
    num_keys = block.keys.stop - block.keys.start
    by_rows = len(mu) >= _MIN_KEY_ROWS * len(block.runs)
    if by_rows:
        sums = e.new_zeros(num_keys, len(e))
        for lo, hi, k in block.runs:
            sums[k] += a[lo:hi].sum(0)
    else:
        local = rel.proto_key[cols] - block.keys.start
        sums = F.one_hot(local, num_keys).to(a.dtype).t() @ a
    sums = sums.t()
    negs = (sums * neg).sum(1) + own_a * own_neg
    num = torch.where(has_other, (sums * pos).sum(1), own_a)
    has_num = num > 0
    safe_num = torch.where(has_num, num, torch.ones_like(num))
    nll = torch.where(has_num, torch.log1p(negs / safe_num), 0.0)

    grad_emb, grad_protos = grads
    if grad_emb is not None or grad_protos is not None:
        # d L_i / d (e_i . mu_j): one row per segment key, broadcast over
        # the key's segments; the own segment's alone.
        neg_coef = torch.where(has_num, kappa / (num + negs), 0.0)
        num_coef = -neg_coef * (negs / safe_num)
        other_coef = torch.where(has_other, num_coef, 0.0)
        per_key = (neg * neg_coef[:, None] + pos * other_coef[:, None]).t()
        per_key = per_key.contiguous()
        if by_rows:
            for lo, hi, k in block.runs:
                a[lo:hi].mul_(per_key[k])
        else:
            a.mul_(per_key[local])
        own_coef = neg_coef * own_neg + torch.where(has_other, 0.0, num_coef)
        a[own_rows, with_own] = (own_a * own_coef)[with_own]
        if grad_emb is not None:
            grad_emb[rows] = a.t() @ mu
        if grad_protos is not None and block.trainable:
            first = cols.start
            grad_protos[first : first + block.trainable] += (
                a[: block.trainable] @ e
            )
    return nll.sum(), has_num.sum()


class _PixelSegmentNLL(torch.autograd.Function):
    """Sum of ``L_i`` and the number of contributing pixels; gradients
    are computed in forward (see the module docstring)."""

    @staticmethod
    def forward(ctx, emb, protos, memory, rel, blocks, kappa, want_grads):
        """``memory``: (M, D) constant prototypes, after ``protos`` in the
        columns; ``rel``: :class:`_Relation`; ``blocks``: :class:`_Block`
        list; ``want_grads``: whether (embeddings, prototypes) need
        gradients."""
        with autocast_disabled(emb.device):
            e, mu = emb.float(), protos.float()
            grads = tuple(
                torch.zeros_like(x) if want else None
                for x, want in zip((e, mu), want_grads)
            )
            if len(memory):
                mu = torch.cat([mu, memory.float()])
            size = max(
                (b.rows.stop - b.rows.start) * (b.cols.stop - b.cols.start)
                for b in blocks
            ) if blocks else 0  # fmt: skip
            work = e.new_empty(size)
            total = e.new_zeros(())
            count = torch.zeros((), dtype=torch.long, device=e.device)
            for block in blocks:
                nll, n = _chunk(e, mu, rel, block, kappa, grads, work)
                total += nll
                count += n
        ctx.dtypes = (emb.dtype, protos.dtype)
        ctx.have = tuple(g is not None for g in grads)
        ctx.save_for_backward(*(g for g in grads if g is not None))
        ctx.mark_non_differentiable(count)
        return total, count

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_total, _):
        saved = iter(ctx.saved_tensors)
        out = [
            (next(saved) * grad_total).to(dtype) if have else None
            for have, dtype in zip(ctx.have, ctx.dtypes)
        ]
        return tuple(out) + (None,) * 5


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
    chunk_size: int = 4096,
) -> Tuple[Tensor, Tensor]:
    """Mean pixel-to-segment negative log-likelihood.

    Segment ``j`` is a positive of pixel ``i`` if their labels are equal
    (or, with multi-hot labels, share a class) and a negative otherwise;
    with groups, only segments of the pixel's group count at all (e.g.
    the segments of its own image), its own segment included. Memory
    prototypes (SPML's memory bank) are segments like the others but
    constants: no gradient is computed for them.

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
        memory_protos (Tensor, optional): (M, D) unit prototypes of the
            memory (used detached). Not with groups. Default: None.
        memory_labels (Tensor, optional): Their labels, long (M, ) or
            (M, C) multi-hot. Default: None.
        chunk_size (int): Pixels per chunk; the working memory is about
            ``chunk_size x (S + M)`` floats. Default: 4096.

    Returns:
        tuple[Tensor, Tensor]: The mean loss (a scalar, 0 when no pixel
        contributes, still connected to the graph) and the number of
        contributing pixels.
    """
    if (pixel_groups is None) != (proto_groups is None):
        raise ValueError('pixel_groups and proto_groups go together')
    if (memory_protos is None) != (memory_labels is None):
        raise ValueError('memory_protos and memory_labels go together')
    if memory_protos is not None and pixel_groups is not None:
        raise ValueError('memory prototypes cannot be grouped')
    if not 0 < concentration <= MAX_CONCENTRATION:
        raise ValueError(
            f'concentration must be in (0, {MAX_CONCENTRATION}], got '
            f'{concentration}'
        )
    if memory_protos is None:
        memory_protos = prototypes.new_zeros(0, prototypes.shape[1])
        memory_labels = proto_labels[:0]
    for name, labels in (
        ('pixel_labels', pixel_labels),
        ('proto_labels', proto_labels),
        ('memory_labels', memory_labels),
    ):
        if labels.dim() == 2 and ((labels != 0) & (labels != 1)).any():
            raise ValueError(f'{name}: multi-hot rows must be 0/1')
    want_grads = tuple(
        torch.is_grad_enabled() and x.requires_grad
        for x in (embeddings, prototypes)
    )
    memory_protos = memory_protos.detach()
    num_trainable = len(prototypes)
    blocks, rel = [], None
    if len(embeddings) and num_trainable + len(memory_protos):
        labels = torch.cat([proto_labels, memory_labels.to(proto_labels)])
        proto_key, proto_rows = _keys(labels, proto_groups)
        constant = torch.arange(len(labels), device=labels.device)
        constant = constant >= num_trainable
        # Sorted by key (so by group), memory after the batch's segments.
        order = torch.sort(
            proto_key + constant * len(proto_rows), stable=True
        )[1]
        proto_key, constant = proto_key[order], constant[order]
        prototypes = prototypes[order[:num_trainable]]
        memory_protos = memory_protos[order[num_trainable:] - num_trainable]
        rank = torch.empty_like(order)
        rank[order] = torch.arange(len(order), device=order.device)
        own = torch.where(own >= 0, rank[own.clamp(min=0)], own)
        pix_key, pix_rows = _keys(pixel_labels, pixel_groups)
        if pixel_groups is not None:  # blocks need pixels by group
            pix_key, order = torch.sort(pix_key, stable=True)
            embeddings, own = embeddings[order], own[order]
        rel = _relation(
            own, pix_key, pix_rows, proto_key, proto_rows,
            multi_hot=pixel_labels.dim() == 2,
        )  # fmt: skip
        blocks = _blocks(
            None if pixel_groups is None else pix_rows[pix_key, 0],
            None if proto_groups is None else proto_rows[proto_key, 0],
            proto_key,
            constant,
            len(embeddings),
            chunk_size,
        )
    total, count = _PixelSegmentNLL.apply(
        embeddings,
        prototypes,
        memory_protos,
        rel,
        blocks,
        concentration,
        want_grads,
    )
    return total / count.clamp(min=1), count
