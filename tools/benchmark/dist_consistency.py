# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Does N-process training reach the mIoU of 1 process? Train a config
with 1 process and with N processes at the same global batch, for several
seeds, and tabulate the validation mIoU (mean and standard deviation).

Each run is ``tools/train.py`` (1 process) or ``tools/dist_train.sh
CONFIG N`` with ``train_dataloader.batch_size`` divided by N, so the
global batch, the schedule and the learning rate stay the same. ``--bn``
adds N-process runs with plain BN (the config's SyncBN replaced), to show
what unsynchronised batch statistics cost. Finished runs in ``--out`` are
reused, so an interrupted comparison resumes and more seeds can be added.
Writes ``OUT/consistency.md`` and ``OUT/consistency.json``.

A run of the demo SPML config at the 0.3x schedule takes 3-4 min on 2
CPU cores (1 process or 2).

Example (CFG: the demo SPML config,
configs/spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py):
    python tools/benchmark/dist_consistency.py CFG \
        --out work_dirs/dist_consistency --seeds 0 1 2 --schedule 0.3 --bn
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
from mmengine.config import Config  # noqa: E402

from mmseg_spml.utils.cli import doc_parser  # noqa: E402
from mmseg_spml.utils.runs import (  # noqa: E402
    ToolRunner,
    mean_std,
    schedule_options,
)

TOOLS = ToolRunner(osp.join(ROOT, 'tools'), '[consistency]')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('config', help='training config')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--procs', type=int, default=2, help='processes to compare with 1'
    )
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--schedule',
        type=float,
        default=1.0,
        help='scale of the config schedule (default: 1, as written)',
    )
    parser.add_argument(
        '--bn', action='store_true', help='also N processes with plain BN'
    )
    args = parser.parse_args(argv)
    if args.procs < 2:
        parser.error(f'--procs must be at least 2, got {args.procs}')
    return args


def settings(args: argparse.Namespace) -> Dict[str, dict]:
    """The compared settings by name: processes and extra options."""
    bn = [
        'model.backbone.norm_cfg.type=BN',
        'model.decode_head.norm_cfg.type=BN',
    ]
    out = {'1 process': dict(procs=1, options=[])}
    out[f'{args.procs} processes'] = dict(procs=args.procs, options=[])
    if args.bn:
        out[f'{args.procs} processes, BN'] = dict(procs=args.procs, options=bn)
    return out


def train(
    args: argparse.Namespace,
    work_dir: str,
    seed: int,
    procs: int,
    batch: int,
    extra: List[str],
) -> Dict[str, float]:
    """Val metrics (and ``seconds``) of one run of ``procs`` processes at
    global batch ``batch`` (``extra``: more ``--cfg-options``), trained now
    unless ``work_dir`` holds a finished one."""
    options = schedule_options(args.config, args.schedule)
    options += [f'randomness.seed={seed}']
    options += [f'train_dataloader.batch_size={batch // procs}']
    options += extra
    return TOOLS.train(args.config, work_dir, options, procs)


def report(args: argparse.Namespace, results: Dict[str, dict]) -> str:
    """The markdown table: mIoU per seed and setting, mean and std."""
    names = list(results)
    lines = [
        f'# 1 vs {args.procs} processes: `{osp.relpath(args.config, ROOT)}`',
        '',
        f'Schedule x{args.schedule:g}, same global batch; val mIoU (%) of '
        'the last validation.',
        '',
        '| seed | ' + ' | '.join(names) + ' |',
        '| --- |' + ' ---: |' * len(names),
    ]
    for seed in args.seeds:
        cells = [f'{results[n][str(seed)]:.2f}' for n in names]
        lines.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
    means, stds = [], []
    for name in names:
        mean, std = mean_std(list(results[name].values()))
        means.append(f'{mean:.2f}')
        stds.append(f'{std:.2f}')
    lines.append('| mean | ' + ' | '.join(means) + ' |')
    lines.append('| std | ' + ' | '.join(stds) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    batch = Config.fromfile(args.config).train_dataloader.batch_size
    if batch % args.procs:
        print(
            f'error: {args.config}: train_dataloader.batch_size {batch} '
            f'cannot be split over {args.procs} processes'
        )
        return 1
    os.makedirs(args.out, exist_ok=True)
    results: Dict[str, dict] = {}
    for name, setting in settings(args).items():
        procs = setting['procs']
        tag = f'p{procs}' + ('-bn' if setting['options'] else '')
        results[name] = {}
        for seed in args.seeds:
            work_dir = osp.join(args.out, f'{tag}_seed{seed}')
            metrics = train(
                args, work_dir, seed, procs, batch, setting['options']
            )
            results[name][str(seed)] = metrics['mIoU']
    table = report(args, results)
    write_json(osp.join(args.out, 'consistency.json'), results)
    write_text(osp.join(args.out, 'consistency.md'), table)
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
