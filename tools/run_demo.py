# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Train on the embedded demo data and print an mIoU table (`make demo`).

The fully supervised baseline is trained with ``tools/train.py``; each
weak-supervision row runs SPML's pipeline (``tools/spml_pipeline.py``:
stage-1 embedding, pseudo labels by random walk, stage-2 classifier on the
frozen embedding) on synthetic annotations of the demo masks:

* scribbles, points: dilated scribbles/points (SPML appendix A.2 radii);
* boxes: box maps (background outside every box, unlabelled inside) with
  the boxes' tags;
* tags: PMM's CAM stage (``configs/pmm/``: CAM classifier, ``make_cams.py``,
  ``make_pseudo_masks.py --method threshold``) makes the stage-1 labels,
  and the pipeline runs two pseudo-label/classifier rounds, as the paper's
  tag setting.

Each type trains with the relation weights and concentrations of the
paper's VOC setting of that type (read from
``configs/spml/deeplabv3_r101_voc_<type>.py``). ``--schedule quick`` (the
default) runs every config at 0.3x its iterations so that the four types
fit in about a quarter of an hour on two CPU cores; ``--schedule full``
runs the configs as written. Metrics are read from the runs' logs and
summarised as a markdown table, printed and written to
``<work-dir>/demo_results.md``. Finished stages are skipped on a rerun.

Example:
    python tools/run_demo.py
    python tools/run_demo.py --schedule full --types scribbles
"""

import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import List

from mmengine.config import Config

from mmseg_spml.datasets.demo_scenes import demo_data_root
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.runs import ToolRunner, last_checkpoint, schedule_options

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
CAM = 'configs/pmm/cam_efflite0-d16_1xb8-500_demo-scenes-tags-128x128.py'
#: The paper's VOC setting of each annotation type: its relation
#: concentrations and weights are used on the demo data too.
PAPER_SETTING = 'configs/spml/deeplabv3_r101_voc_{}.py'
TYPES = ('scribbles', 'points', 'boxes', 'tags')
#: Iteration factor of each schedule (quick: the four types in about a
#: quarter of an hour on 2 CPU cores).
SCHEDULES = dict(quick=0.3, full=1.0)


def parse_args(argv=None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument(
        '--work-dir',
        help='where runs and the results table are written (default: '
        'work_dirs/demo_quick, or work_dirs/demo for the full schedule)',
    )
    parser.add_argument(
        '--schedule',
        choices=tuple(SCHEDULES),
        default='quick',
        help='quick: every config at 0.3x its iterations; full: as written',
    )
    parser.add_argument('--baseline-config', default=BASELINE)
    parser.add_argument('--stage1-config', default=STAGE1)
    parser.add_argument('--stage2-config', default=STAGE2)
    parser.add_argument(
        '--cam-config',
        default=CAM,
        help='CAM classifier of the tag setting (PMM stage)',
    )
    parser.add_argument(
        '--types',
        nargs='+',
        choices=TYPES,
        default=list(TYPES),
        help='weak label types to run SPML on',
    )
    return parser.parse_args(argv)


def relation_options(stage1_config: str, kind: str) -> List[str]:
    """``--cfg-options`` giving the stage-1 relations the concentrations
    and weights of the paper's VOC setting of ``kind``.

    Raises:
        ValueError: If the two configs do not list the same relations in
            the same order.
    """
    paper = Config.fromfile(osp.join(ROOT, PAPER_SETTING.format(kind)))
    ours = Config.fromfile(stage1_config)
    theirs = paper.model.decode_head.segsort.relations
    mine = ours.model.decode_head.segsort.relations
    if [r.type for r in theirs] != [r.type for r in mine]:
        raise ValueError(
            f'{stage1_config} has the relations {[r.type for r in mine]}, '
            f'but the paper setting {PAPER_SETTING.format(kind)} has '
            f'{[r.type for r in theirs]}: they must match one to one'
        )
    prefix = 'model.decode_head.segsort.relations'
    return [
        f'{prefix}.{i}.{key}={relation[key]}'
        for i, relation in enumerate(theirs)
        for key in ('concentration', 'loss_weight')
    ]


def cam_labels(work: str, args: argparse.Namespace) -> str:
    """PMM's CAM stage on the tags: the folder of stage-1 labels of the tag
    setting (``<name>.png`` + ``tags.json``)."""
    cam_dir = osp.join(work, 'cam')
    TOOLS.train(
        args.cam_config,
        cam_dir,
        schedule_options(args.cam_config, args.factor),
    )
    cams = osp.join(work, 'cams')
    TOOLS.run(
        TOOLS.command(
            'make_cams.py',
            args.cam_config,
            last_checkpoint(cam_dir),
            '--out',
            cams,
        )
    )
    labels = osp.join(work, 'cam_labels')
    if not osp.isfile(osp.join(labels, 'tags.json')):
        TOOLS.run(
            TOOLS.command(
                'make_pseudo_masks.py',
                cams,
                '--out',
                labels,
                '--method',
                'threshold',
            )
        )
    return labels


def run_pipeline(kind: str, work_dir: str, args: argparse.Namespace) -> dict:
    """SPML's pipeline on weak labels of ``kind``; its results."""
    start = time.time()
    root = demo_data_root(args.stage1_config)
    if kind == 'tags':
        labels = cam_labels(work_dir, args)
        weak = [
            'train_dataloader.dataset.weak=None',
            'train_dataloader.dataset.data_prefix.img_path=JPEGImages',
            'train_dataloader.dataset.data_prefix.seg_map_path='
            'SegmentationClass',
            f'train_dataloader.dataset.data_prefix.weak_path={labels}',
            f'train_dataloader.dataset.tags_file={labels}/tags.json',
            # CAM labels are guesses, not annotations: the refined stage-1
            # prediction replaces them in the pseudo labels.
            'pseudo_label_cfg.keep_weak_labels=False',
        ]
    else:
        weak = [f'train_dataloader.dataset.weak.type={kind}']
    rounds = 2 if kind == 'tags' else 1
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
        '--rounds',
        str(rounds),
        '--stage1-options',
        *weak,
        *relation_options(args.stage1_config, kind),
        *schedule_options(args.stage1_config, args.factor),
        '--stage2-options',
        *schedule_options(args.stage2_config, args.factor),
    )
    TOOLS.run(cmd)
    with open(osp.join(work_dir, 'pipeline_results.json')) as f:
        result = json.load(f)
    result['seconds'] = time.time() - start
    result['rounds'] = rounds
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
        name = f'{kind} (SPML'
        name += ', CAM labels, 2 rounds)' if r['rounds'] == 2 else ')'
        lines.append(
            f'| {name} | {r["stage1"]["mIoU"]:.2f} | '
            f'{r["raw"]["mIoU"]:.2f} / {r["pseudo"]["mIoU"]:.2f} | '
            f'{r["final"]["mIoU"]:.2f} | {r["seconds"]:.0f} |'
        )
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    for key in ('baseline_config', 'stage1_config', 'stage2_config'):
        setattr(args, key, osp.join(ROOT, getattr(args, key)))
    args.cam_config = osp.join(ROOT, args.cam_config)
    args.factor = SCHEDULES[args.schedule]
    default_dir = (
        'demo' if args.schedule == 'full' else f'demo_{args.schedule}'
    )
    work = osp.abspath(
        args.work_dir or osp.join(ROOT, 'work_dirs', default_dir)
    )
    start = time.time()
    full = TOOLS.train(
        args.baseline_config,
        osp.join(work, osp.splitext(osp.basename(BASELINE))[0]),
        schedule_options(args.baseline_config, args.factor),
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
        f'\nDemo results ({args.schedule} schedule, '
        f'{time.time() - start:.0f} s), mIoU on the val split of the demo '
        f'data (pseudo labels: on the training images); also in {out}:\n'
    )
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
