# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Train one config over several seeds and tabulate its validation
metrics with their mean and standard deviation.

One run proves nothing on a small data set: the spread over seeds is the
noise a difference between two configs has to beat. Each seed is
``tools/train.py CONFIG --cfg-options randomness.seed=S`` (plus
``--cfg-options``), in ``OUT/seed<S>``; finished runs are reused, so an
interrupted study resumes and more seeds can be added later. Writes
``OUT/seeds.md`` and ``OUT/seeds.json`` (per-seed metrics, mean, std).
For SPML's whole pipeline over seeds (stage 1, pseudo labels, stage 2,
next to the baselines), see ``tools/run_demo.py --seeds``.

Example (CFG: the demo baseline,
configs/baselines/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py):
    python tools/benchmark/seeds.py CFG --out work_dirs/seeds_full \
        --seeds 0 1 2
"""

import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)
from _common import write_json, write_text  # noqa: E402

from mmseg_spml.utils.cli import doc_parser  # noqa: E402
from mmseg_spml.utils.runs import (  # noqa: E402
    ToolRunner,
    mean_std,
    schedule_options,
)

TOOLS = ToolRunner(osp.join(ROOT, 'tools'), '[seeds]')
METRICS = ('mIoU', 'mAcc', 'aAcc')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('config', help='training config')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--schedule',
        type=float,
        default=1.0,
        help='scale of the config schedule (default: 1, as written)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value options of every run',
    )
    return parser.parse_args(argv)


def report(config: str, results: Dict[int, dict]) -> str:
    """Markdown table: one row per seed, then mean and std."""
    lines = [
        f'# `{osp.relpath(config, ROOT)}` over {len(results)} seeds',
        '',
        '| seed | ' + ' | '.join(METRICS) + ' |',
        '| --- |' + ' ---: |' * len(METRICS),
    ]
    for seed, metrics in results.items():
        cells = [f'{metrics[m]:.2f}' for m in METRICS]
        lines.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
    stats = [mean_std([r[m] for r in results.values()]) for m in METRICS]
    lines.append('| mean | ' + ' | '.join(f'{m:.2f}' for m, _ in stats))
    lines[-1] += ' |'
    lines.append('| std | ' + ' | '.join(f'{s:.2f}' for _, s in stats))
    lines[-1] += ' |'
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    config = osp.abspath(args.config)
    if len(set(args.seeds)) != len(args.seeds):
        print(f'error: --seeds repeats a seed: {args.seeds}')
        return 1
    os.makedirs(args.out, exist_ok=True)
    results = {}
    for seed in args.seeds:
        options = schedule_options(config, args.schedule)
        options += [*args.cfg_options, f'randomness.seed={seed}']
        metrics = TOOLS.train(
            config, osp.join(args.out, f'seed{seed}'), options
        )
        results[seed] = {m: metrics[m] for m in METRICS}
    summary = {
        m: dict(
            zip(('mean', 'std'), mean_std([r[m] for r in results.values()]))
        )
        for m in METRICS
    }
    write_json(
        osp.join(args.out, 'seeds.json'),
        dict(
            config=osp.relpath(config, ROOT),
            options=args.cfg_options,
            schedule=args.schedule,
            seeds={str(k): v for k, v in results.items()},
            summary=summary,
        ),
    )
    table = report(config, results)
    write_text(osp.join(args.out, 'seeds.md'), table)
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
