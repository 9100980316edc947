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
import os.path as osp
import sys

from mmseg_spml.label_encoding import MAX_CLASSES
from mmseg_spml.pseudo_masks.evaluation import (
    class_names_of,
    format_number,
    format_scores_table,
    score_label_folder,
)
from mmseg_spml.pseudo_masks.metrics import UNLABELLED_POLICIES
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import save_json


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
        metrics = score_label_folder(
            args.pred_dir,
            args.gt_dir,
            class_names,
            split=args.split,
            unlabelled=args.unlabelled,
            nproc=args.nproc,
        )
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    print()
    print(format_scores_table(metrics))
    print()
    print(
        f'{metrics["num_images"]} images, unlabelled prediction pixels: '
        f'{args.unlabelled}'
    )
    print(f'aAcc: {format_number(metrics["aAcc"])}')
    print(
        f'coverage: {format_number(metrics["coverage"])} '
        f'({metrics["num_labelled"]} of {metrics["num_pixels"]} '
        'non-void pixels labelled)'
    )
    if args.out:
        save_json(args.out, metrics)
        print(f'metrics written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
