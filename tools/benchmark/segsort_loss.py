# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Benchmark the SegSort loss (k-means + segments + relations), forward and
backward, at a given scale; prints a markdown row.

The default is the paper's VOC setting: batch 16, 64-d embeddings of
128x128 (512 crops at stride 4), 6x6 k-means grid, memory of 2 batches,
all four relations with table 5's concentrations, scribble-like weak labels
and 16x16-pixel superpixels, which give about 250 segments per image (about
12k prototypes with the memory, as the reference at this setting).

Example:
    python tools/benchmark/segsort_loss.py --repeats 3
    python tools/benchmark/segsort_loss.py --device cuda --batch 16
"""

import argparse
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets.constants import IGNORE_INDEX, UNLABELLED


def make_inputs(args, seed: int):
    g = torch.Generator().manual_seed(seed)
    n, s = args.batch, args.size
    # Spatially smooth embeddings, as a trained network gives (white noise
    # would split every superpixel into many clusters).
    coarse = torch.randn(n, args.dim, s // 16, s // 16, generator=g)
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


def peak_mib(device: str) -> float:
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]),
    )
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--grid', type=int, default=6)
    parser.add_argument('--classes', type=int, default=21)
    parser.add_argument('--memory', type=int, default=2)
    parser.add_argument(
        '--superpixel-size',
        type=int,
        default=16,
        help='side of the square superpixels in embedding pixels',
    )
    parser.add_argument('--chunk', type=int, default=4096)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    init_default_scope('mmseg')
    loss = (
        MODELS.build(
            dict(
                type='SegSortLoss',
                num_classes=args.classes,
                kmeans_grid=(args.grid, args.grid),
                memory_size=args.memory,
                relations=[
                    dict(
                        type='SemanticAnnotation',
                        concentration=6,
                        chunk_size=args.chunk,
                    ),
                    dict(
                        type='SemanticCooccurrence',
                        concentration=12,
                        chunk_size=args.chunk,
                    ),
                    dict(
                        type='LowLevelSimilarity',
                        concentration=16,
                        chunk_size=args.chunk,
                    ),
                ],
            )
        )
        .to(args.device)
        .train()
    )
    # Fill the memory bank first, as in training.
    for seed in range(args.memory):
        with torch.no_grad():
            loss(*make_inputs(args, 1000 + seed))
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    times = []
    for seed in range(args.repeats):
        inputs = make_inputs(args, seed)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        total = sum(loss(*inputs).values())
        total.backward()
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    mem = loss.memory.get(inputs[0], args.classes)[0].shape[0]
    print(
        '| device | batch | dim | size | grid | memory protos | '
        'median s/step | peak MiB |'
    )
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    print(
        f'| {args.device} | {args.batch} | {args.dim} | {args.size} | '
        f'{args.grid}x{args.grid} | {mem} | {statistics.median(times):.2f} '
        f'| {peak_mib(args.device):.0f} |'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
