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
  keys) tables, and per chunk the exponentials are summed per segment key
  and the gradient coefficients are one row per key, spread to the key's
  segments (run by run when the prototypes, sorted by key, form long runs,
  else by ``index_add_`` and a gather). The own segment, the only per-pixel
  exception, is taken out of the sums and handled alone.
- **Gradients in the forward pass.** The loss is a sum of per-pixel terms
  whose gradients w.r.t. the logits are known in closed form
  (``a_ij / (num_i + N_i)`` for negatives, ``-a_ij N_i / ((num_i + N_i)
  num_i)`` for the numerator's segments), so each chunk's gradients are
  accumulated while its exponentials are alive and backward only scales
  them: three matrix products per chunk (similarities, then the gradients
  of the embeddings and of the prototypes), no recomputation, and the
  working memory of one wave of chunks (about ``chunk_size x S`` floats,
  see below) whatever the number of pixels. Memory prototypes get no
  gradient product. Under ``torch.no_grad``, or for inputs that need no
  gradient, that work is skipped.
- **Stable in float32.** Each pixel's exponentials are scaled by
  ``exp(-kappa |e_i| max_j |mu_j|)``, a bound of its largest logit
  (Cauchy-Schwarz), folded into the similarity product as an extra
  column, so nothing overflows; for unit vectors the exponents stay above
  ``-2 kappa >= -80``, inside float32's normal range (hence
  :data:`MAX_CONCENTRATION`). Similarities and sums are float32 with
  autocast off (bfloat16 would round cosines by up to 2^-8, i.e. the
  exponentials by ~6% at kappa = 16).
- **Blocks by group, sized for the cache.** With groups (e.g. images),
  pixels and prototypes are sorted by group and each chunk of pixels meets
  its group's prototypes only, so the cost is that of the groups' blocks.
  On CPU a chunk holds about 6 MiB of exponentials by default; blocks
  smaller than that (an image against its own segments) are handled a
  wave at a time, the per-pixel arithmetic of a wave done at once.
"""

from typing import List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from mmseg_spml.clustering import unique_rows
from mmseg_spml.utils.device import autocast_disabled

#: Largest concentration: cosines span [-1, 1], so after subtracting the
#: bound of the row maximum, exponents reach -2 kappa, and float32's
#: normal range ends at about -87.
MAX_CONCENTRATION = 40.0

#: With automatic chunks, a block of pixels x prototypes holds about this
#: many floats on CPU (6 MiB: it stays in a last-level cache of a few tens
#: of MiB between the passes over it and the matrix products that read
#: it), with 256 to 4096 pixels per chunk; other devices take 4096 pixels.
_CPU_BLOCK_FLOATS = 3 * 2**19
_MIN_ROWS, _MAX_ROWS = 256, 4096

#: A block whose runs of one key have at least this many prototypes on
#: average is reduced and scaled run by run (a few long slices, e.g. the
#: tag sets of co-occurrence); otherwise by key index (``index_add_`` and a
#: gather, e.g. superpixels with a few segments each). Measured on CPU.
_MIN_RUN_ROWS = 100


class _Relation(NamedTuple):
    """Positives and negatives as keys and tables (inputs sorted by key).

    Attributes:
        pix_key (Tensor): long (P, ) key of each pixel.
        pos (Tensor): float (U, K), 1 where pixel key ``u`` counts segment
            key ``k`` as a positive.
        neg (Tensor): float (U, K), 1 for negatives (0 in both: another
            group).
        own (Tensor): long (P, ) own segment, -1 where it does not count
            (none, or in another group).
        own_neg (Tensor): float (P, ), 1 if the own segment is a
            negative.
        has_other (Tensor): bool (P, ), a positive besides the own segment.
    """

    pix_key: Tensor
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
        local (Tensor): long (len(cols), ) key of each prototype, relative
            to ``keys.start``.
        runs (list[tuple[int, int, int]], optional): ``(start, stop,
            key)`` of the runs of one key in ``cols`` (relative), when they
            are long enough to be reduced and scaled run by run (see
            :data:`_MIN_RUN_ROWS`); None: by ``local``.
        trainable (int): Leading prototypes of ``cols`` that need
            gradients (the others are memory).
    """

    rows: slice
    cols: slice
    keys: slice
    local: Tensor
    runs: Optional[List[Tuple[int, int, int]]]
    trainable: int


def _keys(labels: Tensor, groups: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
    """Key id (n, ) of each (group, label), numbered by group first, and
    the keys' rows (m, 1 + L): the group (0 without groups), then the
    label, or the multi-hot labels packed 62 classes to an int64."""
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
    uniq, ids = unique_rows(torch.cat([group, rows], dim=1))
    return ids, uniq


def _tables(
    pix_rows: Tensor, proto_rows: Tensor, multi_hot: bool
) -> Tuple[Tensor, Tensor]:
    """Float (U, K) positive and negative tables of the keys' rows (see
    :func:`_keys`): same group, and equal labels or a shared class (a
    common bit of the packed labels)."""
    same = pix_rows[:, None, 0] == proto_rows[None, :, 0]
    if multi_hot:
        shared = pix_rows[:, None, 1:] & proto_rows[None, :, 1:]
        related = (shared != 0).any(-1)
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
    return _Relation(pix_key, pos, neg, own, own_neg, has_other)


def _chunk_rows(num_protos: int, device: torch.device) -> int:
    """Pixels per chunk against ``num_protos`` prototypes."""
    if device.type != 'cpu':
        return _MAX_ROWS
    rows = _CPU_BLOCK_FLOATS // max(num_protos, 1)
    return min(max(rows, _MIN_ROWS), _MAX_ROWS)


def _runs(local: Tensor, constant: Tensor) -> List[Tuple[int, int, int]]:
    """``(start, stop, key)`` of the runs of equal (memory, key) in a
    block's prototypes."""
    values, sizes = torch.unique_consecutive(
        local * 2 + constant, return_counts=True
    )
    ends = torch.cumsum(sizes, 0).tolist()
    starts = [0] + ends[:-1]
    return list(zip(starts, ends, (values // 2).tolist()))


def _blocks(
    pix_groups: Optional[Tensor],
    proto_groups: Optional[Tensor],
    proto_key: Tensor,
    constant: Tensor,
    num_pixels: int,
    chunk_size: Optional[int],
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
        chunk_size (int, optional): Pixels per chunk; None: chosen per
            group from its number of prototypes (see
            :data:`_CPU_BLOCK_FLOATS`).
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
    trainable = torch.cumsum(~constant, 0).tolist()
    blocks = []
    for start, stop, lo, hi in parts:
        if hi <= lo:
            continue
        keys = proto_key[lo:hi]
        k0, k1 = int(keys.min()), int(keys.max()) + 1
        local = keys - k0
        runs = _runs(local, constant[lo:hi])
        if hi - lo < _MIN_RUN_ROWS * len(runs):
            runs = None
        n_train = trainable[hi - 1] - (trainable[lo - 1] if lo else 0)
        step = chunk_size or _chunk_rows(hi - lo, proto_key.device)
        for s in range(start, stop, step):
            blocks.append(
                _Block(
                    slice(s, min(s + step, stop)),
                    slice(lo, hi),
                    slice(k0, k1),
                    local,
                    runs,
                    n_train,
                )
            )
    return blocks


def _augmented(
    emb: Tensor, protos: Tensor, kappa: float
) -> Tuple[Tensor, Tensor]:
    """``[mu, 1]`` (S, D + 1) and ``[kappa e, -peak]`` transposed,
    (D + 1, P), whose products are ``kappa mu_j . e_i - peak_i`` with
    ``peak_i = kappa |e_i| max_j |mu_j|``, a bound of pixel ``i``'s largest
    logit. The pixels' side is stored transposed: a transposed view of
    (P, D + 1) with odd D + 1 makes the product ~1.5x slower on CPU."""
    peak = (kappa * protos.norm(dim=1).amax()) * emb.norm(dim=1)
    return (
        torch.cat([protos, torch.ones_like(protos[:, :1])], dim=1),
        torch.cat([kappa * emb.t(), -peak[None]], dim=0),
    )


class _Exponentials(NamedTuple):
    """A block between the two passes of a wave.

    Attributes:
        a (Tensor): (segments, pixels) exponentials, in the work buffer.
        pos (Tensor): float (pixels, keys), positive table of the block.
        neg (Tensor): float (pixels, keys), negative table of the block.
        with_own (Tensor): long, pixels of the block with an own segment.
        own_rows (Tensor): long, their own segment's row in ``a``.
    """

    a: Tensor
    pos: Tensor
    neg: Tensor
    with_own: Tensor
    own_rows: Tensor


def _exponentials(
    augmented: Tuple[Tensor, Tensor],
    rel: _Relation,
    block: _Block,
    a: Tensor,
) -> Tuple[_Exponentials, Tensor, Tensor, Tensor]:
    """First pass over a block: its exponentials (into ``a``, (segments,
    pixels)) and their sums.

    Returns:
        tuple: The :class:`_Exponentials`, then per pixel (pixels, ): the
        sum over positives and the sum over negatives, both without the
        own segment, and the own segment's exponential (0 if none).
    """
    rows, cols = block.rows, block.cols
    pix_key = rel.pix_key[rows]
    pos = rel.pos[:, block.keys][pix_key]  # (pixels, keys)
    neg = rel.neg[:, block.keys][pix_key]
    torch.mm(augmented[0][cols], augmented[1][:, rows], out=a).exp_()
    with_own = torch.nonzero(rel.own[rows] >= 0).squeeze(1)
    own_rows = rel.own[rows][with_own] - cols.start
    own_a = a.new_zeros(a.shape[1])
    own_a[with_own] = a[own_rows, with_own]
    a[own_rows, with_own] = 0
    sums = a.new_zeros(block.keys.stop - block.keys.start, a.shape[1])
    if block.runs is None:
        sums.index_add_(0, block.local, a)
    else:
        for lo, hi, k in block.runs:
            sums[k] += a[lo:hi].sum(0)
    a[own_rows, with_own] = own_a[with_own]
    sums = sums.t()
    state = _Exponentials(a, pos, neg, with_own, own_rows)
    return state, (sums * pos).sum(1), (sums * neg).sum(1), own_a


def _gradients(
    emb: Tensor,
    protos: Tensor,
    block: _Block,
    state: _Exponentials,
    coefs: Tuple[Tensor, Tensor, Tensor],
    grads: Tuple[Optional[Tensor], Optional[Tensor]],
    work: Tensor,
) -> None:
    """Second pass: scale the exponentials into ``d L_i / d (e_i . mu_j)``
    and add the block's gradients to ``grads``; ``work``: a flat buffer of
    at least the block's size for the coefficients.

    Args:
        coefs (tuple[Tensor, Tensor, Tensor]): Per pixel of the block: the
            coefficient of its negatives, of its other positives, and of
            its own segment (its gradient times its exponential's
            inverse).
    """
    a, pos, neg = state.a, state.pos, state.neg
    neg_coef, other_coef, own_coef = coefs
    # One row of coefficients per segment key, broadcast over its
    # segments; the own segment's set alone.
    per_key = (neg * neg_coef[:, None] + pos * other_coef[:, None]).t()
    per_key = per_key.contiguous()
    with_own, own_rows = state.with_own, state.own_rows
    own_grad = a[own_rows, with_own] * own_coef[with_own]
    if block.runs is None:
        coef = work[: a.numel()].view(a.shape)
        a.mul_(torch.index_select(per_key, 0, block.local, out=coef))
    else:
        for lo, hi, k in block.runs:
            a[lo:hi].mul_(per_key[k])
    a[own_rows, with_own] = own_grad
    grad_emb, grad_protos = grads
    rows, cols = block.rows, block.cols
    if grad_emb is not None:
        grad_emb[rows] = a.t() @ protos[cols]
    if grad_protos is not None and block.trainable:
        first = cols.start
        grad_protos[first : first + block.trainable] += (
            a[: block.trainable] @ emb[rows]
        )


def _wave(
    emb: Tensor,
    protos: Tensor,
    augmented: Tuple[Tensor, Tensor],
    rel: _Relation,
    blocks: List[_Block],
    kappa: float,
    grads: Tuple[Optional[Tensor], Optional[Tensor]],
    work: Tensor,
) -> Tuple[Tensor, Tensor]:
    """Loss terms of consecutive blocks whose exponentials fit ``work``
    together; their gradients w.r.t. the float32 inputs (up to the
    upstream factor) go into ``grads`` ((P, D) and (S, D) buffers, or
    None). ``augmented``: :func:`_augmented` of the inputs.

    Small blocks (e.g. one image's pixels against its own segments) are
    thus handled a wave at a time: one pass over the blocks' exponentials,
    the per-pixel arithmetic of all their pixels at once, then a pass that
    turns the exponentials into gradients.

    Returns:
        tuple[Tensor, Tensor]: Sum of the blocks' ``L_i`` and the number of
        pixels with a numerator.
    """
    states, pos_sums, neg_sums, own_exps = [], [], [], []
    offset = 0
    for block in blocks:
        shape = (block.cols.stop - block.cols.start,
                 block.rows.stop - block.rows.start)  # fmt: skip
        a = work[offset : offset + _size(block)].view(shape)
        offset += a.numel()
        state, pos_sum, neg_sum, own_a = _exponentials(
            augmented, rel, block, a
        )
        states.append(state)
        pos_sums.append(pos_sum)
        neg_sums.append(neg_sum)
        own_exps.append(own_a)
    rows = slice(blocks[0].rows.start, blocks[-1].rows.stop)
    own_a = torch.cat(own_exps)
    negs = torch.cat(neg_sums) + own_a * rel.own_neg[rows]
    has_other = rel.has_other[rows]
    num = torch.where(has_other, torch.cat(pos_sums), own_a)
    has_num = num > 0
    safe_num = torch.where(has_num, num, torch.ones_like(num))
    nll = torch.where(has_num, torch.log1p(negs / safe_num), 0.0)
    if grads[0] is not None or grads[1] is not None:
        neg_coef = torch.where(has_num, kappa / (num + negs), 0.0)
        num_coef = -neg_coef * (negs / safe_num)
        other_coef = torch.where(has_other, num_coef, 0.0)
        own_coef = neg_coef * rel.own_neg[rows] + torch.where(
            has_other, 0.0, num_coef
        )
        for block, state in zip(blocks, states):
            r = slice(
                block.rows.start - rows.start, block.rows.stop - rows.start
            )
            coefs = (neg_coef[r], other_coef[r], own_coef[r])
            _gradients(emb, protos, block, state, coefs, grads, work[offset:])
    return nll.sum(), has_num.sum()


def _size(block: _Block) -> int:
    """Number of (pixel, prototype) pairs of a block."""
    return (block.rows.stop - block.rows.start) * (
        block.cols.stop - block.cols.start
    )


def _waves(blocks: List[_Block], max_floats: int) -> List[List[_Block]]:
    """Consecutive blocks grouped while their exponentials total at most
    ``max_floats`` (a block larger than that is a wave alone)."""
    waves, size = [], 0
    for block in blocks:
        n = _size(block)
        if waves and size + n <= max_floats:
            waves[-1].append(block)
            size += n
        else:
            waves.append([block])
            size = n
    return waves


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
            waves = _waves(blocks, _CPU_BLOCK_FLOATS)
            # Each wave's exponentials, then room for one block's
            # coefficients.
            size = max(
                sum(map(_size, wave)) + max(map(_size, wave))
                for wave in waves
            ) if waves else 0  # fmt: skip
            work = e.new_empty(size)
            augmented = _augmented(e, mu, kappa) if blocks else None
            total = e.new_zeros(())
            count = torch.zeros((), dtype=torch.long, device=e.device)
            for wave in waves:
                nll, n = _wave(e, mu, augmented, rel, wave, kappa, grads, work)
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
    chunk_size: Optional[int] = None,
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
        chunk_size (int, optional): Pixels per chunk; the working memory
            is about ``chunk_size x (S + M)`` floats. Default: None, chosen
            from the number of prototypes: blocks of about 6 MiB on CPU
            (256 to 4096 pixels), 4096 pixels on other devices.

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
