# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Benchmark the chunked kNN vote of SPML's segment retrieval; prints a
markdown table.

The default is the VOC-scale memory: 10000 training images x 144
prototypes (12x12 k-means grid) of 64-d unit vectors, 1.44M rows of
float32 (about 369 MB), generated in chunks; the queries are the
prototypes of 16 test images (144 x 16). ``knn_vote`` scans the memory in
chunks of ``--chunk`` rows, so its extra memory is about
``Q x (chunk + 2k)`` similarities; the table also gives the size the naive
Q x M similarity matrix would need.

Example:
    python tools/benchmark/knn_search.py --images 500 --repeats 2
    python tools/benchmark/knn_search.py --device cuda --chunk 65536
"""

import argparse
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from mmseg_spml.datasets.constants import UNLABELLED
from mmseg_spml.refinement.knn import knn_vote


def make_memory(args, generator: torch.Generator):
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


def peak_mib(device: str) -> float:
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]),
    )
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
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    memory, labels = make_memory(args, generator)
    queries = F.normalize(
        torch.randn(
            args.queries, args.dim, generator=generator, device=args.device
        ),
        dim=1,
    )

    def run():
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

    run()  # warm-up
    sync(args.device)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.repeats):
        sync(args.device)
        start = time.perf_counter()
        run()
        sync(args.device)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    rows = memory.shape[0]
    memory_mib = memory.numel() * memory.element_size() / 2**20
    naive_bytes = args.queries * rows * 4
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
        f'{args.queries} | {args.k} | {args.chunk} | {median:.3f} | '
        f'{args.queries / median:.0f} | {peak_mib(args.device):.0f} | '
        f'{naive_bytes} ({naive_bytes / 2**20:.0f}) |'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
