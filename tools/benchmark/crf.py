# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Benchmark the dense CRF backends on one image: seconds per image
(median of repeats) of ``dense_crf`` with the reference's settings (10
mean-field iterations) for each backend, on a synthetic image of
``--size`` pixels square with ``--classes`` noisy class maps; prints a
markdown table. ``auto`` is what the configs and
``make_pseudo_labels.py`` use by default (pydensecrf when installed).

Example:
    python tools/benchmark/crf.py --size 64 --classes 21 --repeats 3
    python tools/benchmark/crf.py --size 128 --backends pydensecrf
"""

import argparse
import os.path as osp
import sys
import time
from typing import Any, Dict, List, Optional

import torch

from mmseg_spml.refinement.crf import crf_available, dense_crf

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import benchmark_parser, median, result, write_json  # noqa: E402


def measure(args: argparse.Namespace) -> Dict[str, Any]:
    """Seconds per image of each backend (median of ``args.repeats``).

    Returns:
        dict: The options, ``seconds`` per backend (None where the backend
        is not installed) and the environment.
    """
    g = torch.Generator().manual_seed(args.seed)
    size = (args.size, args.size)
    image = torch.randint(0, 256, (3, *size), generator=g).float()
    probs = torch.softmax(
        3 * torch.randn(args.classes, *size, generator=g), dim=0
    )
    seconds: Dict[str, Optional[float]] = {}
    for backend in args.backends:
        if backend == 'pydensecrf' and not crf_available():
            seconds[backend] = None
            continue
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            dense_crf(image, probs, max_pixels=args.size**2, backend=backend)
            times.append(time.perf_counter() - start)
        seconds[backend] = median(times)
    return result(args, seconds=seconds, pydensecrf=crf_available())


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = benchmark_parser(__doc__, repeats=3)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--classes', type=int, default=21)
    parser.add_argument(
        '--backends',
        nargs='+',
        default=['torch', 'pydensecrf', 'auto'],
        choices=['torch', 'pydensecrf', 'auto'],
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    record = measure(args)
    print('| backend | image | classes | median s/image |')
    print('| --- | ---: | ---: | ---: |')
    for backend, s in record['seconds'].items():
        cell = 'not installed' if s is None else f'{s:.3f}'
        print(
            f'| {backend} | {args.size}x{args.size} | {args.classes} | '
            f'{cell} |'
        )
    if args.json:
        write_json(args.json, record)
    return 0


if __name__ == '__main__':
    sys.exit(main())
