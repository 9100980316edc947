# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Benchmark the chunked kNN vote of SPML's segment retrieval; prints a
markdown table.

The default is the VOC-scale memory: 10000 training images x 144
prototypes (12x12 k-means grid) of 64-d unit vectors, 1.44M rows of
float32 (about 369 MB), generated in chunks; the queries are the
prototypes of 16 test images (144 x 16). ``knn_vote`` scans the memory in
chunks of ``--chunk`` rows, so its extra memory is about
``Q x (chunk + 2k)`` similarities; the table also gives the size the naive
Q x M similarity matrix would need. ``--json`` writes the results as a dict
(peak memory is that of the process on CPU: one point per process).

Example:
    python tools/benchmark/knn_search.py --images 500 --repeats 2
    python tools/benchmark/knn_search.py --device cuda --chunk 65536
    python tools/benchmark/knn_search.py --images 500 --json out.json
"""

import argparse
import os.path as osp
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg_spml.label_encoding import UNLABELLED
from mmseg_spml.refinement.knn import knn_vote

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


def make_memory(
    args: argparse.Namespace, generator: torch.Generator
) -> Tuple[Tensor, Tensor]:
    """Random unit memory rows and labels, generated chunk by chunk."""
    rows = args.images * args.protos_per_image
    memory = torch.empty(rows, args.dim, device=args.device)
    step = 1 << 16
    for start in range(0, rows, step):
        stop = min(start + step, rows)
        chunk = torch.randn(
            stop - start, args.dim, generator=generator, device=args.device
        )
        memory[start:stop] = F.normalize(chunk, dim=1)
    labels = torch.randint(
        0, args.classes, (rows,), generator=generator, device=args.device
    )
    if args.unlabelled > 0:
        drop = torch.rand(rows, generator=generator, device=args.device)
        labels[drop < args.unlabelled] = UNLABELLED
    return memory, labels


def measure(args: argparse.Namespace) -> Dict[str, Any]:
    """Time ``knn_vote`` of the queries over the memory.

    Args:
        args (argparse.Namespace): Parsed options of this script.

    Returns:
        dict: The options, ``rows`` and ``memory_mib`` of the memory,
        ``median_s`` (over ``repeats``, after one warm-up run; the list in
        ``times``), ``queries_per_s``, ``naive_bytes`` (of the Q x M
        similarity matrix), ``base_mib`` (memory in use before the first
        search: memory, labels, queries), ``peak_mib`` and the
        :func:`environment`.
    """
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    memory, labels = make_memory(args, generator)
    queries = F.normalize(
        torch.randn(
            args.queries, args.dim, generator=generator, device=args.device
        ),
        dim=1,
    )

    def run() -> Tensor:
        return knn_vote(
            queries,
            memory,
            labels,
            args.classes,
            k=args.k,
            chunk_size=args.chunk,
            query_chunk=args.query_chunk,
            soft=args.soft,
        )

    # In use before any search (the peak RSS includes the warm-up's).
    base = current_mib(args.device)
    run()  # warm-up
    reset_peak(args.device)
    times = []
    for _ in range(args.repeats):
        sync(args.device)
        start = time.perf_counter()
        run()
        sync(args.device)
        times.append(time.perf_counter() - start)
    med = median(times)
    return result(
        args,
        rows=int(memory.shape[0]),
        memory_mib=memory.numel() * memory.element_size() / 2**20,
        median_s=med,
        times=times,
        queries_per_s=args.queries / med,
        naive_bytes=args.queries * memory.shape[0] * 4,
        base_mib=base,
    )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = benchmark_parser(__doc__, repeats=3)
    parser.add_argument('--images', type=int, default=10000)
    parser.add_argument('--protos-per-image', type=int, default=144)
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument('--queries', type=int, default=144 * 16)
    parser.add_argument('--classes', type=int, default=21)
    parser.add_argument('--k', type=int, default=20)
    parser.add_argument('--chunk', type=int, default=4096)
    parser.add_argument('--query-chunk', type=int, default=4096)
    parser.add_argument(
        '--unlabelled',
        type=float,
        default=0.0,
        help='fraction of memory rows labelled unlabelled (excluded)',
    )
    parser.add_argument('--soft', action='store_true')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    record = measure(args)
    median_s = record['median_s']
    rows = record['rows']
    memory_mib = record['memory_mib']
    naive_bytes = record['naive_bytes']
    print(
        '| device | memory rows | dim | memory MiB | queries | k | chunk | '
        'median s | queries/s | peak MiB | naive QxM bytes (MiB) |'
    )
    print(
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | '
        '---: | ---: |'
    )
    print(
        f'| {args.device} | {rows} | {args.dim} | {memory_mib:.0f} | '
        f'{args.queries} | {args.k} | {args.chunk} | {median_s:.3f} | '
        f'{record["queries_per_s"]:.0f} | {record["peak_mib"]:.0f} | '
        f'{naive_bytes} ({naive_bytes / 2**20:.0f}) |'
    )
    if args.json:
        write_json(args.json, record)
    return 0


if __name__ == '__main__':
    sys.exit(main())
