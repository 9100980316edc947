# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Run the mmseg-spml benchmark suite; write a markdown table and plots.

Four parts, each point in a fresh subprocess (so that its peak memory, the
peak RSS of that process on CPU or the CUDA allocator's peak, is its own):

1. SegSort loss (``segsort_loss.py``): clustering time and loss forward +
   backward time and peak memory against the batch size, the embedding
   resolution and the number of segments (set by the superpixel size);
2. SPML train step against the plain DeepLabV3 cross-entropy train step of
   the same backbone (``spml_train_step.py``), and their time ratio;
3. kNN search throughput against the memory size (``knn_search.py``);
4. training throughput (images/s) of a short run of the demo SPML config
   with ``tools/train.py`` (real data pipeline, dataloader included), from
   the per-iteration ``time`` of its log after warm-up iterations; on CPU
   also with 2 gloo processes (``tools/dist_train.sh``, same global batch),
   with the config's SyncBN (built as SPMLSyncBN) and with plain BN; and
   one process with the superpixels computed by the dataloader workers at
   every iteration (``ComputeSuperpixels``) instead of once per image and
   loaded (``LoadSuperpixels``), the config's way.

Times are medians over repeated runs. ``OUT/benchmark.md`` holds the
tables (with device, torch version and thread count), ``OUT/*.png`` the
plots, ``OUT/results.json`` all numbers and ``OUT/logs/`` each point's
output. The default suite takes a few minutes on 2 idle CPU cores (under
10 with other jobs running; the table notes a busy machine); ``--quick``
runs tiny sizes in about a minute (a smoke test, not numbers to quote).

Example:
    python tools/benchmark/run_suite.py --out work_dirs/benchmark
    python tools/benchmark/run_suite.py --out /tmp/bench --device cuda
    python tools/benchmark/run_suite.py --out /tmp/bench --quick
"""

import argparse
import copy
import datetime
import os
import os.path as osp
import shlex
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)
from _common import write_json, write_text  # noqa: E402
from _suite_report import plot, report  # noqa: E402
from _suite_runs import (  # noqa: E402
    Runner,
    run_knn,
    run_loss,
    run_step,
    run_train_all,
)

from mmseg_spml.utils.cli import doc_parser  # noqa: E402

DEMO_CONFIG = osp.join(
    ROOT,
    'configs',
    'spml',
    'spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py',
)
SECTIONS = ('loss', 'step', 'knn', 'train')

#: Sweep sizes. ``loss`` is the point every loss sweep varies one
#: option of; ``batch``, ``size`` and ``superpixel_size`` the values.
PROFILES = {
    'default': dict(
        loss=dict(batch=2, size=64, superpixel_size=8, grid=6, repeats=5),
        batch=[1, 2, 4],
        size=[32, 64, 96],
        superpixel_size=[16, 8, 4],
        knn=dict(images=[250, 1000, 4000], queries=1152, repeats=3),
        step=dict(batch=8, size=128, repeats=20, warmup=3),
        train=dict(batch=8, iters=10, warmup=3, small_data=False),
    ),
    'quick': dict(
        loss=dict(batch=1, size=16, superpixel_size=8, grid=2, repeats=1),
        batch=[1, 2],
        size=[16, 32],
        superpixel_size=[8, 4],
        knn=dict(images=[10, 40], queries=144, repeats=1),
        step=dict(batch=2, size=64, repeats=1, warmup=0),
        # 2 images per process: BN needs 2 values per channel (ASPP pool).
        train=dict(batch=4, iters=1, warmup=1, small_data=True),
    ),
}


def _load() -> Tuple[float, ...]:
    """The 1-minute load average (empty where unknown)."""
    try:
        return (os.getloadavg()[0],)
    except (AttributeError, OSError):
        return ()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--quick', action='store_true', help='tiny sizes: a smoke test'
    )
    parser.add_argument(
        '--sections',
        nargs='+',
        choices=SECTIONS,
        default=list(SECTIONS),
        help='parts to run (default: all)',
    )
    parser.add_argument(
        '--threads', type=int, help='OMP_NUM_THREADS of the points'
    )
    parser.add_argument(
        '--train-config',
        default=DEMO_CONFIG,
        help='config of the training-throughput run (part 4)',
    )
    parser.add_argument(
        '--timeout',
        type=float,
        default=600,
        help='seconds one point may run (default: 600)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    mode = 'quick' if args.quick else 'default'
    profile = copy.deepcopy(PROFILES[mode])
    runner = Runner(args.out, args.device, args.threads, args.timeout)
    command = ' '.join(
        shlex.quote(a)
        for a in ['python', osp.relpath(__file__, ROOT)]
        + list(sys.argv[1:] if argv is None else argv)
    )
    results: Dict[str, Any] = dict(
        load=list(_load()),
        device=args.device,
        mode=mode,
        profile=profile,
        command=command,
        date=datetime.datetime.now(datetime.timezone.utc).strftime(
            '%Y-%m-%d %H:%M UTC'
        ),
    )

    def save() -> None:
        results['load'] = results['load'][:1] + list(_load())
        results['wall_s'] = time.perf_counter() - start
        results['cpu_s'] = runner.cpu_s
        results['failures'] = list(runner.failures)
        write_json(osp.join(args.out, 'results.json'), results)
        write_text(osp.join(args.out, 'benchmark.md'), report(results))

    if 'loss' in args.sections:
        results['loss'] = run_loss(runner, profile)
        save()
    if 'step' in args.sections:
        results['step'] = run_step(runner, profile)
        save()
    if 'knn' in args.sections:
        results['knn'] = run_knn(runner, profile)
        save()
    if 'train' in args.sections:
        results['train'] = run_train_all(runner, profile, args.train_config)
        save()
    plots = plot(results, args.out)
    save()
    print(report(results))
    print(
        f'wrote {osp.join(args.out, "benchmark.md")} and '
        f'{", ".join(osp.basename(p) for p in plots)} in '
        f'{results["wall_s"]:.0f} s',
        flush=True,
    )
    return 1 if runner.failures else 0


if __name__ == '__main__':
    sys.exit(main())
