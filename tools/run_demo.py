# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Train on the embedded demo data and print an mIoU table (`make demo`).

Each experiment is trained with ``tools/train.py`` in its own process
(validation on the demo ``val`` split at the end of training), then the
metrics are read from the run's ``scalars.json`` and summarised as a
markdown table, printed and written to ``<work-dir>/demo_results.md``.

Example:
    python tools/run_demo.py --work-dir work_dirs/demo
"""

import argparse
import os
import os.path as osp
import subprocess
import sys
import time
from typing import List

from mmseg_spml.utils.runs import last_val_metrics

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: (row label, config) pairs trained by the demo, in table order.
EXPERIMENTS = [
    (
        'full masks (DeepLabV3-EffLite0)',
        'configs/baselines/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py',
    ),
    (
        'scribbles (SPML, classifier)',
        'configs/spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py',
    ),
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--work-dir',
        default=osp.join(ROOT, 'work_dirs', 'demo'),
        help='where runs and the results table are written',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='passed to tools/train.py for every experiment',
    )
    return parser.parse_args(argv)


def format_table(rows: List[dict]) -> str:
    lines = [
        '| supervision | mIoU | mAcc | aAcc | train+val time (s) |',
        '| --- | ---: | ---: | ---: | ---: |',
    ]
    for row in rows:
        lines.append(
            f'| {row["name"]} | {row["mIoU"]:.2f} | '
            f'{row["mAcc"]:.2f} | {row["aAcc"]:.2f} | '
            f'{row["seconds"]:.0f} |'
        )
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    rows = []
    for name, config in EXPERIMENTS:
        stem = osp.splitext(osp.basename(config))[0]
        work_dir = osp.join(args.work_dir, stem)
        cmd = [
            sys.executable,
            osp.join(ROOT, 'tools', 'train.py'),
            osp.join(ROOT, config),
            '--work-dir',
            work_dir,
        ]
        if args.cfg_options:
            cmd += ['--cfg-options'] + args.cfg_options
        print(f'[demo] {name}: {" ".join(cmd)}', flush=True)
        start = time.time()
        subprocess.run(cmd, check=True, cwd=ROOT)
        metrics = last_val_metrics(work_dir)
        rows.append(dict(name=name, seconds=time.time() - start, **metrics))
    table = format_table(rows)
    os.makedirs(args.work_dir, exist_ok=True)
    out = osp.join(args.work_dir, 'demo_results.md')
    with open(out + '.tmp', 'w') as f:
        f.write(table + '\n')
    os.replace(out + '.tmp', out)
    print(f'\nDemo results (val split of the demo data; also in {out}):\n')
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
