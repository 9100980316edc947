# Copyright (c) mmseg-spml contributors. All rights reserved.
"""kNN segment retrieval, SPML's non-parametric readout (section 5.3).

A *memory* is a set of unit segment prototypes with one label each, built
from training images by :func:`image_prototypes` (spherical k-means on a
12x12 grid, one prototype per cluster, labelled with the majority label of
its pixels). At test time, :func:`knn_segment_scores` clusters the test
image the same way and every cluster votes with the labels of its top-k
cosine neighbours in the memory (:func:`knn_vote`).

All functions are pure torch and batched; the search is chunked so that
the query x memory similarity matrix is never materialised. Memories are
stored with :func:`save_memory` and read back with :func:`load_memory`.
"""

import os
from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg_spml.clustering.kmeans import location_features, spherical_kmeans
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.utils.io import atomic_file

#: Keys of a memory file written by :func:`save_memory`.
MEMORY_KEYS = ('prototypes', 'labels', 'meta')


def cluster_prototypes(
    embeddings: Tensor,
    valid: Optional[Tensor] = None,
    grid: Tuple[int, int] = (12, 12),
    num_iters: int = 10,
) -> Tuple[Tensor, Tensor, Tensor]:
    """Cluster every image and average each non-empty cluster.

    Spherical k-means on the normalised ``[embedding; y; x]`` features, as
    in the SegSort loss; one prototype (the normalised mean embedding) per
    non-empty cluster, ordered by image, then by cluster id.

    Args:
        embeddings (Tensor): (N, D, H, W) unit pixel embeddings.
        valid (Tensor, optional): bool (N, H, W); invalid pixels join no
            cluster. Default: None (all pixels valid).
        grid (tuple[int, int]): k-means grid; at most ``rows * cols``
            prototypes per image. Default: (12, 12).
        num_iters (int): k-means iterations. Default: 10.

    Returns:
        tuple[Tensor, Tensor, Tensor]: (P, D) unit prototypes, long (P, )
        the image index of each, and long (N, H, W) the prototype index of
        every pixel (-1 where invalid).
    """
    n, d, h, w = embeddings.shape
    num_k = grid[0] * grid[1]
    device = embeddings.device
    if valid is None:
        valid = torch.ones(n, h, w, dtype=torch.bool, device=device)
    loc = location_features(h, w, device, embeddings.dtype)
    feats = F.normalize(
        torch.cat([embeddings, loc.expand(n, -1, -1, -1)], dim=1), dim=1
    )
    clusters = spherical_kmeans(feats, valid, grid, num_iters)
    image = torch.arange(n, device=device).view(n, 1, 1)
    keys = (image * num_k + clusters).reshape(-1)  # (N * H * W, )
    keep = clusters.reshape(-1) >= 0
    keys_kept = keys[keep]
    nonempty = torch.bincount(keys_kept, minlength=n * num_k) > 0
    key_to_proto = torch.cumsum(nonempty.long(), 0) - 1
    pix = embeddings.permute(0, 2, 3, 1).reshape(-1, d)
    sums = pix.new_zeros(n * num_k, d).index_add_(0, keys_kept, pix[keep])
    protos = F.normalize(sums[nonempty], dim=1)
    images = torch.arange(n * num_k, device=device)[nonempty] // num_k
    pixel_proto = torch.full_like(keys, -1)
    pixel_proto[keep] = key_to_proto[keys_kept]
    return protos, images, pixel_proto.view(n, h, w)


def image_prototypes(
    embeddings: Tensor,
    labels: Tensor,
    num_classes: int,
    grid: Tuple[int, int] = (12, 12),
    num_iters: int = 10,
    ignore_index: int = IGNORE_INDEX,
) -> Tuple[Tensor, Tensor, Tensor]:
    """Labelled memory prototypes of a batch of images.

    Clusters every image with :func:`cluster_prototypes`, leaving the
    ``ignore_index`` pixels out, and labels each cluster's prototype with
    the most frequent class among its *labelled* pixels (values in
    ``[0, num_classes)``; ties go to the lowest class id), or
    :data:`UNLABELLED` if none of its pixels is labelled.

    Args:
        embeddings (Tensor): (N, D, H, W) unit pixel embeddings.
        labels (Tensor): long (N, H, W) weak or pseudo labels at the
            embedding resolution (``ignore_index`` = void; other values
            >= ``num_classes``, such as 254, = unlabelled).
        num_classes (int): Number of classes C.
        grid (tuple[int, int]): k-means grid; at most ``rows * cols``
            prototypes per image. Default: (12, 12).
        num_iters (int): k-means iterations. Default: 10.
        ignore_index (int): Void label. Default: 255.

    Returns:
        tuple[Tensor, Tensor, Tensor]: (P, D) unit prototypes, long (P, )
        their labels and long (P, ) their image index; ordered by image,
        then by k-means cluster id.
    """
    if num_classes < 1:
        raise ValueError(f'num_classes must be >= 1, got {num_classes}')
    valid = labels != ignore_index
    protos, images, pixel_proto = cluster_prototypes(
        embeddings, valid, grid, num_iters
    )
    num = protos.shape[0]
    flat_proto = pixel_proto.reshape(-1)
    flat_labels = labels.reshape(-1).long()
    labelled = (
        (flat_proto >= 0) & (flat_labels >= 0) & (flat_labels < num_classes)
    )
    hist = torch.bincount(
        flat_proto[labelled] * num_classes + flat_labels[labelled],
        minlength=num * num_classes,
    ).view(num, num_classes)
    majority = hist.argmax(dim=1)
    majority = majority.masked_fill(hist.sum(dim=1) == 0, UNLABELLED)
    return protos, majority, images


def _topk_lowest_index(
    vals: Tensor, k: int, idx: Optional[Tensor] = None
) -> Tuple[Tensor, Tensor]:
    """Top-k of every row by value, ties broken towards the lowest index.

    ``torch.topk`` leaves the choice among equal values at the k-th place
    unspecified. A tie crosses that place exactly when the (k+1)-th
    largest value equals the k-th, so ``topk(k + 1)`` finds the (rare)
    rows to redo: for them, all values above the k-th are kept, then the
    equal ones of lowest index. Ties at ``-inf`` (excluded rows) are not
    redone.

    Args:
        vals (Tensor): (Q, L) scores.
        k (int): Number to keep, ``1 <= k <= L``.
        idx (Tensor, optional): long (Q, L) the index of every score,
            unique per row. Default: None (the column).

    Returns:
        tuple[Tensor, Tensor]: (Q, k) values, in no particular order, and
        long (Q, k) their indices.
    """
    width = vals.shape[1]
    if k == width:
        if idx is None:
            idx = torch.arange(width, device=vals.device).expand_as(vals)
        return vals, idx
    top, pos = vals.topk(k + 1, dim=1)
    crossing = (top[:, k] == top[:, k - 1]) & (top[:, k - 1] > float('-inf'))
    top, pos = top[:, :k].clone(), pos[:, :k]
    out = pos if idx is None else idx.gather(1, pos)
    if bool(crossing.any()):
        rows = crossing.nonzero().squeeze(1)
        sub = vals[rows]
        sub_idx = None if idx is None else idx[rows]
        if sub_idx is not None:  # scan the candidates by index
            order = sub_idx.argsort(dim=1)
            sub, sub_idx = sub.gather(1, order), sub_idx.gather(1, order)
        thr = top[rows, k - 1 :]
        above = sub > thr
        equal = sub == thr
        need = k - above.sum(1, keepdim=True)
        pick = above | (equal & (equal.cumsum(1) <= need))
        cols = pick.nonzero()[:, 1].view(-1, k)  # k picks per row
        top[rows] = sub.gather(1, cols)
        out[rows] = cols if sub_idx is None else sub_idx.gather(1, cols)
    return top, out


def knn_search(
    queries: Tensor,
    memory: Tensor,
    exclude: Optional[Tensor] = None,
    k: int = 20,
    chunk_size: int = 4096,
) -> Tuple[Tensor, Tensor]:
    """Top-k cosine neighbours of every query in a memory, chunked.

    The memory is scanned in chunks of ``chunk_size`` rows: each chunk's
    top-k is concatenated with the current best and the top-k re-taken,
    so only a (Q, chunk_size) similarity block and (Q, 2k) candidates are
    alive at once, O(Q x (k + chunk_size)) memory instead of O(Q x M).
    Ties are deterministic and independent of the chunking: among equal
    similarities the lowest memory row wins.

    Args:
        queries (Tensor): (Q, D) query vectors (normalised here).
        memory (Tensor): (M, D) memory vectors (normalised per chunk here,
            in float32; may be stored in a lower precision).
        exclude (Tensor, optional): bool (M, ); True rows are never
            returned as neighbours. Default: None.
        k (int): Number of neighbours. Default: 20.
        chunk_size (int): Memory rows per chunk. Default: 4096.

    Returns:
        tuple[Tensor, Tensor]: (Q, min(k, M)) cosine similarities, sorted
        descending, and long (Q, min(k, M)) memory row indices. When fewer
        than k rows are not excluded, the remaining places hold excluded
        rows with similarity ``-inf``.
    """
    if k < 1 or chunk_size < 1:
        raise ValueError(
            f'k and chunk_size must be >= 1, got {k}, {chunk_size}'
        )
    q = F.normalize(queries.float(), dim=1)
    best_vals = q.new_empty(q.shape[0], 0)
    best_idx = torch.empty(q.shape[0], 0, dtype=torch.long, device=q.device)
    for start in range(0, memory.shape[0], chunk_size):
        chunk = F.normalize(
            memory[start : start + chunk_size].to(q.device).float(), dim=1
        )
        sims = q @ chunk.T  # (Q, chunk)
        if exclude is not None:
            mask = exclude[start : start + chunk_size].to(q.device)
            if bool(mask.any()):
                sims.masked_fill_(mask[None], float('-inf'))
        width = min(k, sims.shape[1])
        vals, idx = _topk_lowest_index(sims, width)
        del sims
        vals = torch.cat([best_vals, vals], dim=1)
        idx = torch.cat([best_idx, idx + start], dim=1)
        best_vals, best_idx = _topk_lowest_index(
            vals, min(k, vals.shape[1]), idx
        )
    # Sort by similarity, then by index.
    order = best_idx.argsort(dim=1)
    best_vals, best_idx = best_vals.gather(1, order), best_idx.gather(1, order)
    order = best_vals.argsort(dim=1, descending=True, stable=True)
    best_vals, best_idx = best_vals.gather(1, order), best_idx.gather(1, order)
    return best_vals, best_idx


def knn_vote(
    queries: Tensor,
    memory: Tensor,
    memory_labels: Tensor,
    num_classes: int,
    k: int = 20,
    chunk_size: int = 4096,
    query_chunk: int = 4096,
    soft: bool = False,
    temperature: float = 0.1,
) -> Tensor:
    """Class scores of every query from its top-k memory neighbours.

    Memory rows labelled outside ``[0, num_classes)`` (unlabelled, void)
    are excluded from the search, so they never vote. If fewer than ``k``
    rows are labelled, all of them vote. Peak extra memory is
    ``query_chunk x (chunk_size + 2k)`` similarities (see
    :func:`knn_search`); the Q x M matrix is never built.

    Args:
        queries (Tensor): (Q, D) query prototypes.
        memory (Tensor): (M, D) memory prototypes.
        memory_labels (Tensor): long (M, ) their labels.
        num_classes (int): Number of classes C.
        k (int): Number of neighbours. Default: 20 (SPML).
        chunk_size (int): Memory rows per chunk. Default: 4096.
        query_chunk (int): Queries searched at once. Default: 4096.
        soft (bool): False: majority vote, the scores are neighbour counts
            (summing to ``min(k, labelled rows)``). True: each neighbour
            votes with ``softmax(sim / temperature)`` over the neighbours
            (scores sum to 1). Default: False (SPML).
        temperature (float): Softmax temperature of the soft vote.
            Default: 0.1.

    Returns:
        Tensor: (Q, C) float32 class scores; all zero for every query if no
        memory row is labelled. ``argmax`` breaks class ties towards the
        lowest class id.
    """
    if memory.dim() != 2 or queries.dim() != 2:
        raise ValueError(
            'queries and memory must be 2-D, got '
            f'{tuple(queries.shape)} and {tuple(memory.shape)}'
        )
    if memory_labels.shape != memory.shape[:1]:
        raise ValueError(
            f'memory_labels {tuple(memory_labels.shape)} does not match '
            f'memory {tuple(memory.shape)}'
        )
    if query_chunk < 1:
        raise ValueError(f'query_chunk must be >= 1, got {query_chunk}')
    device = queries.device
    labels = memory_labels.to(device).long()
    exclude = (labels < 0) | (labels >= num_classes)
    scores = torch.zeros(
        queries.shape[0], num_classes, device=device, dtype=torch.float32
    )
    for start in range(0, queries.shape[0], query_chunk):
        stop = start + query_chunk
        vals, idx = knn_search(
            queries[start:stop], memory, exclude, k, chunk_size
        )
        voting = vals > float('-inf')
        nb_labels = torch.where(voting, labels[idx], 0)
        if soft:
            top = vals[:, :1]
            logits = torch.where(voting, (vals - top) / temperature, 0.0)
            weights = torch.where(voting, logits.exp(), 0.0)
            weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-12)
        else:
            weights = voting.float()
        scores[start:stop].scatter_add_(1, nb_labels, weights)
    return scores


def knn_segment_scores(
    embeddings: Tensor,
    memory: Tensor,
    memory_labels: Tensor,
    num_classes: int,
    valid: Optional[Tensor] = None,
    grid: Tuple[int, int] = (12, 12),
    num_iters: int = 10,
    k: int = 20,
    chunk_size: int = 4096,
    query_chunk: int = 4096,
    soft: bool = False,
    temperature: float = 0.1,
) -> Tensor:
    """Test-time kNN readout: cluster the images, vote per cluster.

    Every image is clustered as the memory was (:func:`cluster_prototypes`;
    no labels), each cluster prototype gets its class scores from
    :func:`knn_vote`, and the scores are broadcast back to the cluster's
    pixels.

    Args:
        embeddings (Tensor): (N, D, H, W) unit pixel embeddings.
        memory (Tensor): (M, D) memory prototypes.
        memory_labels (Tensor): long (M, ) their labels.
        num_classes (int): Number of classes C.
        valid (Tensor, optional): bool (N, H, W); False pixels (padding)
            are not clustered and get zero scores. Default: None.
        grid (tuple[int, int]): k-means grid. Default: (12, 12).
        num_iters (int): k-means iterations. Default: 10.
        k, chunk_size, query_chunk, soft, temperature: See
            :func:`knn_vote`.

    Returns:
        Tensor: (N, C, H, W) float32 class scores of every pixel.
    """
    n, _, h, w = embeddings.shape
    protos, _, pixel_proto = cluster_prototypes(
        embeddings, valid, grid, num_iters
    )
    scores = knn_vote(
        protos,
        memory,
        memory_labels,
        num_classes,
        k=k,
        chunk_size=chunk_size,
        query_chunk=query_chunk,
        soft=soft,
        temperature=temperature,
    )
    # A zero row for invalid pixels (index P).
    scores = torch.cat([scores, scores.new_zeros(1, num_classes)])
    flat = pixel_proto.reshape(-1)
    flat = torch.where(flat >= 0, flat, protos.shape[0])
    return scores[flat].view(n, h, w, num_classes).permute(0, 3, 1, 2)


def _check_plain(value: Any, where: str) -> None:
    """Raise TypeError unless ``value`` is built of plain python types."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f'{where}[{i}]')
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f'{where} has a non-str key {key!r}')
            _check_plain(item, f'{where}[{key!r}]')
        return
    raise TypeError(
        f'{where} is a {type(value).__name__}; memory meta may only hold '
        'None, bool, int, float, str, list, tuple and dict'
    )


def _check_memory(prototypes: Any, labels: Any, meta: Any) -> Optional[str]:
    """What is wrong with a memory, or None."""
    if not isinstance(prototypes, Tensor) or prototypes.dim() != 2:
        return 'prototypes must be a 2-D (M, D) tensor'
    if not prototypes.is_floating_point():
        return f'prototypes must be floating point, not {prototypes.dtype}'
    if not isinstance(labels, Tensor) or labels.dim() != 1:
        return 'labels must be a 1-D (M, ) tensor'
    if labels.dtype != torch.long:
        return f'labels must be int64, not {labels.dtype}'
    if labels.shape[0] != prototypes.shape[0]:
        return f'{labels.shape[0]} labels for {prototypes.shape[0]} prototypes'
    if not isinstance(meta, dict):
        return f'meta must be a dict, not {type(meta).__name__}'
    return None


def save_memory(
    path: str,
    prototypes: Tensor,
    labels: Tensor,
    meta: Optional[Dict[str, Any]] = None,
) -> None:
    """Write a memory to a ``.pth`` file, atomically.

    The file is a ``torch.save`` of ``{'prototypes', 'labels', 'meta'}``
    (tensors moved to the CPU), written to a temporary file in the same
    folder and moved into place with ``os.replace``, so a reader never sees
    a partial file.

    Args:
        path (str): Destination; its folder is created if missing.
        prototypes (Tensor): (M, D) floating point prototypes.
        labels (Tensor): (M, ) integer labels (stored as int64).
        meta (dict, optional): Plain python description (None, bool, int,
            float, str, list, tuple, dict with str keys), so that the file
            loads with ``weights_only=True``. Default: None (empty).

    Raises:
        ValueError: If the shapes or dtypes are wrong.
        TypeError: If ``meta`` holds anything else than plain types.
    """
    meta = {} if meta is None else meta
    labels = labels.long() if isinstance(labels, Tensor) else labels
    problem = _check_memory(prototypes, labels, meta)
    if problem is not None:
        raise ValueError(f'cannot save memory to {path}: {problem}')
    _check_plain(meta, 'meta')
    state = dict(
        prototypes=prototypes.detach().cpu().contiguous(),
        labels=labels.detach().cpu().contiguous(),
        meta=meta,
    )
    with atomic_file(path) as f:
        torch.save(state, f)


def load_memory(path: str) -> Tuple[Tensor, Tensor, Dict[str, Any]]:
    """Read a memory written by :func:`save_memory`.

    Loads with ``torch.load(..., weights_only=True)`` on the CPU and
    validates the keys, shapes and dtypes.

    Args:
        path (str): The ``.pth`` file.

    Returns:
        tuple[Tensor, Tensor, dict]: (M, D) prototypes, long (M, ) labels
        and the meta dict.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a valid memory, naming the file and
            the problem.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'memory file {path} does not exist')
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        raise ValueError(
            f'memory file {path} cannot be loaded: {type(e).__name__}: {e}'
        ) from e
    if not isinstance(state, dict):
        raise ValueError(
            f'memory file {path} holds a {type(state).__name__}, '
            f'not a dict with keys {list(MEMORY_KEYS)}'
        )
    missing = [key for key in MEMORY_KEYS if key not in state]
    if missing:
        raise ValueError(
            f'memory file {path} lacks the key(s) {missing} '
            f'(has {sorted(map(str, state))})'
        )
    problem = _check_memory(
        state['prototypes'], state['labels'], state['meta']
    )
    if problem is not None:
        raise ValueError(f'memory file {path} is invalid: {problem}')
    return state['prototypes'], state['labels'], state['meta']
