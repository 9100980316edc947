# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Benchmark the SegSort loss (k-means + segments + relations), forward and
backward, at a given scale; prints a markdown row.

The default is the paper's VOC setting: batch 16, 64-d embeddings of
128x128 (512 crops at stride 4), 6x6 k-means grid, memory of 2 batches,
all four relations with table 5's concentrations, scribble-like weak labels
and 16x16-pixel superpixels, which give about 250 segments per image (about
12k prototypes with the memory, as the reference at this setting).

Each repeat times the clustering alone (k-means on [embedding; xy] and
the segments, as the loss runs them) and then the whole loss, forward and
backward. Peak memory is that of the process (peak RSS on CPU, so run one
point per process; ``run_suite.py`` does) or of the CUDA allocator during
the timed loop; ``--json`` writes the results as a dict.
``--likelihood v1`` runs the relations on the previous implementation of
the likelihood (``likelihood_v1.py``), for ``likelihood.py``'s peak-memory
comparison.

Example:
    python tools/benchmark/segsort_loss.py --repeats 3
    python tools/benchmark/segsort_loss.py --device cuda --batch 16
    python tools/benchmark/segsort_loss.py --batch 4 --json out.json
    python tools/benchmark/segsort_loss.py --batch 4 --likelihood v1
"""

import argparse
import os.path as osp
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import Tensor

import mmseg_spml  # noqa: F401
from mmseg_spml.clustering import (
    location_features,
    make_segments,
    spherical_kmeans,
)
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import (  # noqa: E402
    benchmark_parser,
    current_mib,
    median,
    reset_peak,
    result,
    sync,
    write_json,
)
from likelihood_v1 import use_likelihood  # noqa: E402


def make_inputs(
    args: argparse.Namespace, seed: int
) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Synthetic loss inputs: smooth unit embeddings (N, D, S, S), weak
    labels and superpixels (N, S, S) and image tags (N, C)."""
    g = torch.Generator().manual_seed(args.seed * 100003 + seed)
    n, s = args.batch, args.size
    # Spatially smooth embeddings, as a trained network gives (white noise
    # would split every superpixel into many clusters).
    coarse = torch.randn(
        n, args.dim, max(s // 16, 1), max(s // 16, 1), generator=g
    )
    emb = F.normalize(
        F.interpolate(coarse, size=(s, s), mode='bilinear'), dim=1
    )
    # Scribble-like labels: a few labelled horizontal strokes per image.
    labels = torch.full((n, s, s), UNLABELLED, dtype=torch.long)
    rows = torch.randint(0, s, (n, 6), generator=g)
    classes = torch.randint(0, args.classes, (n, 6), generator=g)
    for k in range(6):
        labels[torch.arange(n), rows[:, k]] = classes[:, k, None]
    labels[:, :, -4:] = IGNORE_INDEX  # padding
    tags = torch.zeros(n, args.classes)
    tags.scatter_(1, classes, 1.0)
    tags[:, 0] = 1
    yy, xx = torch.meshgrid(torch.arange(s), torch.arange(s), indexing='ij')
    b = args.superpixel_size
    sp = ((yy // b) * (s // b + 1) + xx // b).expand(n, s, s).contiguous()
    to = dict(device=args.device)
    return (
        emb.to(**to).requires_grad_(),
        labels.to(**to),
        tags.to(**to),
        sp.to(**to),
    )


def build_loss(args: argparse.Namespace) -> torch.nn.Module:
    """The SegSort loss with the three relations of the VOC setting, its
    memory bank filled with ``args.memory`` batches first, as in
    training."""
    init_default_scope('mmseg')
    relations = [
        ('SemanticAnnotation', 6),
        ('SemanticCooccurrence', 12),
        ('LowLevelSimilarity', 16),
    ]
    loss = MODELS.build(
        dict(
            type='SegSortLoss',
            num_classes=args.classes,
            kmeans_grid=(args.grid, args.grid),
            memory_size=args.memory,
            relations=[
                dict(type=name, concentration=kappa, chunk_size=args.chunk)
                for name, kappa in relations
            ],
        )
    )
    loss = loss.to(args.device).train()
    for seed in range(args.memory):
        with torch.no_grad():
            loss(*make_inputs(args, 1000 + seed))
    return loss


def clustering(loss: torch.nn.Module, inputs: tuple) -> int:
    """The loss's clustering step alone: k-means on [embedding; xy] and
    segments; returns the number of segments."""
    emb, labels, _, sp = inputs
    n, _, h, w = emb.shape
    with torch.no_grad():
        loc = location_features(h, w, emb.device, emb.dtype)
        feats = F.normalize(
            torch.cat([emb, loc.expand(n, -1, -1, -1)], dim=1), dim=1
        )
        clusters = spherical_kmeans(
            feats, labels != IGNORE_INDEX, loss.kmeans_grid, loss.kmeans_iters
        )
        return int(make_segments(clusters, labels, sp).num)


def measure(args: argparse.Namespace) -> Dict[str, Any]:
    """Time the clustering and the loss (forward + backward).

    Args:
        args (argparse.Namespace): Parsed options of this script.

    Returns:
        dict: The options, ``segments`` (of a batch), ``memory_protos``,
        ``clustering_s`` and ``step_s`` (medians over ``repeats``, with
        the lists in ``clustering_times`` and ``step_times``),
        ``base_mib`` (memory in use before the timed loop), ``peak_mib``
        and the :func:`environment`.
    """
    loss = build_loss(args)
    inputs = make_inputs(args, 0)
    reset_peak(args.device)
    base = current_mib(args.device)
    cluster_times, step_times = [], []
    segments = 0
    for seed in range(args.repeats):
        inputs = make_inputs(args, seed)
        sync(args.device)
        start = time.perf_counter()
        segments = clustering(loss, inputs)
        sync(args.device)
        cluster_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        total = sum(loss(*inputs).values())
        total.backward()
        sync(args.device)
        step_times.append(time.perf_counter() - start)
    mem = loss.memory.get(inputs[0], args.classes)[0].shape[0]
    return result(
        args,
        segments=segments,
        memory_protos=int(mem),
        clustering_s=median(cluster_times),
        step_s=median(step_times),
        clustering_times=cluster_times,
        step_times=step_times,
        base_mib=base,
    )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = benchmark_parser(__doc__, repeats=3)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument(
        '--size', type=int, default=128, help='embedding side (pixels)'
    )
    parser.add_argument('--grid', type=int, default=6)
    parser.add_argument('--classes', type=int, default=21)
    parser.add_argument('--memory', type=int, default=2)
    parser.add_argument(
        '--superpixel-size',
        type=int,
        default=16,
        help='side of the square superpixels in embedding pixels',
    )
    parser.add_argument(
        '--chunk',
        type=int,
        default=None,
        help='pixels per chunk of the likelihood (default: automatic)',
    )
    parser.add_argument(
        '--likelihood',
        default='current',
        choices=['current', 'v1'],
        help='implementation of the pixel-to-segment likelihood',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    with use_likelihood(args.likelihood):
        record = measure(args)
    print(
        '| device | batch | dim | size | grid | memory protos | '
        'median s/step | peak MiB | segments/batch | median clustering s |'
    )
    print(
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
        '| ---: |'
    )
    print(
        f'| {args.device} | {args.batch} | {args.dim} | {args.size} | '
        f'{args.grid}x{args.grid} | {record["memory_protos"]} | '
        f'{record["step_s"]:.2f} | {record["peak_mib"]:.0f} | '
        f'{record["segments"]} | {record["clustering_s"]:.3f} |'
    )
    if args.json:
        write_json(args.json, record)
    return 0


if __name__ == '__main__':
    sys.exit(main())
