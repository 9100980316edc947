# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Score seeds or pseudo masks against full ground-truth masks.

Reads ``PRED_DIR/<name>.png`` and ``GT_DIR/<name>.png`` (palette or
grayscale PNGs of class ids; 255 = void in the ground truth, any value
>= --num-classes, e.g. 254, = no class in the prediction) for every name
of --split (default: every PNG in PRED_DIR) and prints per-class IoU,
precision and recall, their means, the pixel accuracy and the coverage
(share of non-void pixels the prediction gives a class), in percent.

--unlabelled decides how prediction pixels without a class count:
``ignore`` leaves them out (scores of the labelled pixels only, the usual
number for seeds), ``background`` counts them as class 0, ``wrong`` as
misses (false negatives of their true class).

Examples:
    # seeds on VOC train, scored where they label something
    python tools/analysis_tools/eval_pseudo_masks.py work_dirs/seeds \
        data/VOCdevkit/VOC2012/SegmentationClass \
        --split data/VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt \
        --nproc 8 --out work_dirs/seeds_metrics.json
    # dense pseudo masks of another label set
    python tools/analysis_tools/eval_pseudo_masks.py masks gt --num-classes 3 \
        --class-names sky,road,car --unlabelled wrong
"""

import argparse
import glob
import json
import math
import os.path as osp
import sys
from functools import partial
from typing import List, Optional, Tuple

import numpy as np

from mmseg_spml.datasets.converters import VOC_CLASSES
from mmseg_spml.datasets.transforms.loading import read_label_map
from mmseg_spml.label_encoding import MAX_CLASSES
from mmseg_spml.pseudo_masks.metrics import (
    UNLABELLED_POLICIES,
    confusion_matrix,
    label_coverage,
    pseudo_mask_scores,
)
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import read_split, save_json
from mmseg_spml.utils.parallel import map_with_progress


def parse_args(argv=None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('pred_dir', help='folder of predicted label PNGs')
    parser.add_argument('gt_dir', help='folder of ground-truth label PNGs')
    parser.add_argument(
        '--split',
        default=None,
        help='split file (one image stem per line); default: every PNG '
        'in pred_dir',
    )
    parser.add_argument('--num-classes', type=int, default=21)
    parser.add_argument(
        '--unlabelled',
        choices=UNLABELLED_POLICIES,
        default='ignore',
        help='how prediction pixels without a class count (default: ignore)',
    )
    parser.add_argument(
        '--class-names',
        default=None,
        help='comma-separated names, or a JSON file holding a list of '
        'names (or {"classes": [...]}); default: the VOC classes for 21 '
        'classes, else the ids',
    )
    parser.add_argument('--out', default=None, help='write metrics JSON')
    parser.add_argument('--nproc', type=int, default=1)
    return parser.parse_args(argv)


def class_names_of(spec: Optional[str], num_classes: int) -> List[str]:
    """Class names from --class-names (names, or a JSON file)."""
    if spec is None:
        if num_classes == len(VOC_CLASSES):
            return list(VOC_CLASSES)
        return [str(i) for i in range(num_classes)]
    if spec.endswith('.json') or osp.isfile(spec):
        if not osp.isfile(spec):
            raise FileNotFoundError(f'class names file {spec} does not exist')
        with open(spec) as f:
            names = json.load(f)
        if isinstance(names, dict):
            names = names.get('classes')
        if not isinstance(names, list):
            raise ValueError(
                f'{spec} must hold a list of class names or '
                '{"classes": [...]}'
            )
        names = [str(n) for n in names]
    else:
        names = [n.strip() for n in spec.split(',')]
    if len(names) != num_classes:
        raise ValueError(
            f'got {len(names)} class names for --num-classes {num_classes}'
        )
    return names


def process(
    name: str, args: argparse.Namespace
) -> Tuple[np.ndarray, int, int]:
    """Confusion matrix and coverage counts of one image."""
    pred_path = osp.join(args.pred_dir, name + '.png')
    gt_path = osp.join(args.gt_dir, name + '.png')
    if not osp.isfile(pred_path):
        raise FileNotFoundError(f'prediction file {pred_path} does not exist')
    pred = read_label_map(pred_path)
    gt = read_label_map(gt_path)
    if pred.shape != gt.shape:
        raise ValueError(
            f'prediction {pred_path} has shape {pred.shape} but ground '
            f'truth {gt_path} has shape {gt.shape}'
        )
    try:
        conf = confusion_matrix(pred, gt, args.num_classes, args.unlabelled)
    except ValueError as e:
        raise ValueError(f'{gt_path}: {e}') from None
    labelled, total = label_coverage(pred, gt, args.num_classes)
    return conf, labelled, total


def _fmt(value: float) -> str:
    return 'n/a' if math.isnan(value) else f'{value:.2f}'


def format_table(metrics: dict) -> str:
    """Markdown table of the per-class scores and their means."""
    lines = [
        '| Class | IoU | Precision | Recall |',
        '|:--|--:|--:|--:|',
    ]
    for name, scores in metrics['per_class'].items():
        lines.append(
            f'| {name} | {_fmt(scores["IoU"])} | '
            f'{_fmt(scores["Precision"])} | {_fmt(scores["Recall"])} |'
        )
    lines.append(
        f'| **mean** | {_fmt(metrics["mIoU"])} | '
        f'{_fmt(metrics["mPrecision"])} | {_fmt(metrics["mRecall"])} |'
    )
    return '\n'.join(lines)


def _json_safe(obj):
    """NaN as null, numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj


def main(argv=None) -> int:
    args = parse_args(argv)
    if not 1 <= args.num_classes <= MAX_CLASSES:
        sys.exit(
            f'error: --num-classes must be in [1, {MAX_CLASSES}], '
            f'got {args.num_classes}'
        )
    if not osp.isdir(args.pred_dir):
        sys.exit(f'error: prediction folder {args.pred_dir} does not exist')
    try:
        class_names = class_names_of(args.class_names, args.num_classes)
        if args.split:
            names = read_split(args.split)
        else:
            names = sorted(
                osp.splitext(osp.basename(p))[0]
                for p in glob.glob(osp.join(args.pred_dir, '*.png'))
            )
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    if not names:
        sys.exit(f'error: no images to evaluate in {args.pred_dir}')
    worker = partial(process, args=args)
    try:
        results = map_with_progress(worker, names, args.nproc)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    conf = sum(r[0] for r in results)
    labelled = sum(r[1] for r in results)
    total = sum(r[2] for r in results)
    metrics = pseudo_mask_scores(conf, class_names)
    metrics.update(
        coverage=100.0 * labelled / total if total else math.nan,
        num_pixels=int(total),
        num_images=len(names),
        num_classes=args.num_classes,
        unlabelled=args.unlabelled,
        confusion_matrix=conf.tolist(),
    )
    print()
    print(format_table(metrics))
    print()
    print(
        f'{len(names)} images, unlabelled prediction pixels: {args.unlabelled}'
    )
    print(f'aAcc: {_fmt(metrics["aAcc"])}')
    print(
        f'coverage: {_fmt(metrics["coverage"])} ({labelled} of {total} '
        'non-void pixels labelled)'
    )
    if args.out:
        save_json(args.out, _json_safe(metrics))
        print(f'metrics written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
