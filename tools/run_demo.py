# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Train on the embedded demo data and print an mIoU table (`make demo`).

The fully supervised baseline is trained with ``tools/train.py``; each
weak-supervision row runs SPML's pipeline (``tools/spml_pipeline.py``:
stage-1 embedding, pseudo labels by random walk, stage-2 classifier on the
frozen embedding). Metrics are read from the runs' logs and summarised as a
markdown table, printed and written to ``<work-dir>/demo_results.md``.
Finished stages are skipped on a rerun.

Example:
    python tools/run_demo.py --work-dir work_dirs/demo
    python tools/run_demo.py --types scribbles points
"""

import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import List

from mmseg_spml.datasets.demo_scenes import demo_data_root
from mmseg_spml.utils.runs import ToolRunner

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = ToolRunner(ROOT, '[demo]')
BASELINE = (
    'configs/baselines/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py'
)
STAGE1 = (
    'configs/spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py'
)
STAGE2 = (
    'configs/spml/spml_efflite0-d16_1xb8-500_demo-scenes-classifier-128x128.py'
)
#: Weak label types the demo can run (synthesised from the demo masks;
#: boxes as box maps: background outside, unlabelled inside). Tags need
#: CAM pseudo labels first (make demo-pmm).
TYPES = ('scribbles', 'points', 'boxes')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--work-dir',
        default=osp.join(ROOT, 'work_dirs', 'demo'),
        help='where runs and the results table are written',
    )
    parser.add_argument('--baseline-config', default=BASELINE)
    parser.add_argument('--stage1-config', default=STAGE1)
    parser.add_argument('--stage2-config', default=STAGE2)
    parser.add_argument(
        '--types',
        nargs='+',
        choices=TYPES,
        default=['scribbles'],
        help='weak label types to run SPML on (each takes about 13 min '
        'on 2 CPU cores)',
    )
    return parser.parse_args(argv)


def run_pipeline(kind: str, work_dir: str, args: argparse.Namespace) -> dict:
    """SPML's pipeline on weak labels of ``kind``; its results."""
    root = demo_data_root(args.stage1_config)
    options = [f'train_dataloader.dataset.weak.type={kind}']
    cmd = TOOLS.command(
        'spml_pipeline.py',
        args.stage1_config,
        args.stage2_config,
        '--work-dir',
        work_dir,
        '--gt-dir',
        osp.join(root, 'SegmentationClass'),
        '--split',
        osp.join(root, 'ImageSets', 'Segmentation', 'train.txt'),
        '--num-classes',
        '7',
        '--compare-raw',
        '--stage1-options',
        *options,
    )
    start = time.time()
    TOOLS.run(cmd)
    with open(osp.join(work_dir, 'pipeline_results.json')) as f:
        result = json.load(f)
    result['seconds'] = time.time() - start
    return result


def format_table(full: dict, rows: List[tuple]) -> str:
    lines = [
        '| supervision | stage-1 classifier | pseudo labels: raw / '
        'random walk (train) | final (stage 2) | time (s) |',
        '| --- | ---: | ---: | ---: | ---: |',
        f'| full masks (DeepLabV3-EffLite0) | | | {full["mIoU"]:.2f} | '
        f'{full["seconds"]:.0f} |',
    ]
    for kind, r in rows:
        lines.append(
            f'| {kind} (SPML) | {r["stage1"]["mIoU"]:.2f} | '
            f'{r["raw"]["mIoU"]:.2f} / {r["pseudo"]["mIoU"]:.2f} | '
            f'{r["final"]["mIoU"]:.2f} | {r["seconds"]:.0f} |'
        )
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    for key in ('baseline_config', 'stage1_config', 'stage2_config'):
        setattr(args, key, osp.join(ROOT, getattr(args, key)))
    work = osp.abspath(args.work_dir)
    full = TOOLS.train(
        args.baseline_config,
        osp.join(work, osp.splitext(osp.basename(BASELINE))[0]),
    )
    rows = [
        (kind, run_pipeline(kind, osp.join(work, f'spml_{kind}'), args))
        for kind in args.types
    ]
    table = format_table(full, rows)
    os.makedirs(work, exist_ok=True)
    out = osp.join(work, 'demo_results.md')
    with open(out + '.tmp', 'w') as f:
        f.write(table + '\n')
    os.replace(out + '.tmp', out)
    print(
        '\nDemo results, mIoU on the val split of the demo data (pseudo '
        f'labels: on the training images); also in {out}:\n'
    )
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
