# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Check a config's weak training set before training on it.

Reads every image, weak map, superpixel map and tag list of the training
set (``train_dataloader.dataset``) with the weak maps' encoding of the
config's ``LoadWeakAnnotations``, and reports in one go: unreadable or
missing files, shapes that differ from the image, values outside the
encoding, maps that look like 255 = "not annotated" read as void, labels
the tags lack, no background label anywhere, classes nothing labels or
tags; then per-class coverage, unlabelled share and superpixel regions.
Exits with 1 on any problem. ``--out`` also writes the report as JSON.

Example:
    python tools/analysis_tools/check_weak_dataset.py \
        configs/spml/deeplabv3_r101_voc_scribbles.py --nproc 8
"""

import os.path as osp
import sys
from functools import partial
from typing import List, Optional

import numpy as np
from mmengine.config import DictAction
from mmseg.registry import DATASETS

import mmseg_spml  # noqa: F401  (registers the datasets and transforms)
from mmseg_spml.datasets.checks import (
    check_sample,
    class_coverage,
    coverage_problems,
)
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.utils.cli import doc_parser, load_tool_config
from mmseg_spml.utils.io import save_json
from mmseg_spml.utils.parallel import map_with_progress


def weak_encoding(pipeline: Optional[list]) -> dict:
    """``unlabelled_value`` and ``void_value`` of the pipeline's
    ``LoadWeakAnnotations`` (the defaults without one)."""
    encoding = dict(unlabelled_value=UNLABELLED, void_value=IGNORE_INDEX)
    for step in pipeline or []:
        if step.get('type') == 'LoadWeakAnnotations':
            encoding.update({k: step[k] for k in encoding if k in step})
    return encoding


def format_report(report: dict) -> str:
    """The human-readable report: problems, then coverage and statistics."""
    lines = [
        f'checked {report["images"]} images of {report["config"]}: '
        f'{len(report["problems"])} problems'
    ]
    lines += [f'  {p}' for p in report['problems']]
    lines.append(f'{"class":<20} {"labelled":>9} {"tagged":>7}  (images)')
    cover = report['coverage']
    for i, name in enumerate(report['classes']):
        lines.append(
            f'{name:<20} {cover["labelled"][i]:>9} {cover["tagged"][i]:>7}'
        )
    if report['unlabelled_share'] is not None:
        lines.append(
            f'unlabelled pixels per weak map: mean '
            f'{report["unlabelled_share"]:.1%}'
        )
    if report['regions'] is not None:
        r = report['regions']
        lines.append(
            f'superpixel regions per image: median {r["median"]:.0f} '
            f'(min {r["min"]}, max {r["max"]})'
        )
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = doc_parser(__doc__)
    parser.add_argument('config', help='config with a weak train_dataloader')
    parser.add_argument('--out', help='also write the report as JSON here')
    parser.add_argument('--nproc', type=int, default=1)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = load_tool_config(args)
    dataset_cfg = cfg.train_dataloader.dataset
    encoding = weak_encoding(dataset_cfg.get('pipeline'))
    try:
        dataset = DATASETS.build(dict(dataset_cfg, pipeline=[]))
    except (FileNotFoundError, KeyError, ValueError) as e:
        print(f'error: the training set cannot be built: {e}')
        return 1
    if not hasattr(dataset, 'get_data_info'):
        sys.exit(f'error: {type(dataset).__name__} has no data list to check')
    classes = list(dataset.metainfo['classes'])
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    checks = map_with_progress(
        partial(check_sample, num_classes=len(classes), **encoding),
        infos,
        args.nproc,
    )
    weak_maps = any('weak_map_path' in info for info in infos)
    coverage = class_coverage(checks, len(classes))
    problems = [p for c in checks for p in c.problems]
    problems += coverage_problems(coverage, classes, weak_maps)
    regions = [c.regions for c in checks if c.regions]
    report = dict(
        config=args.config,
        images=len(checks),
        encoding=encoding,
        problems=problems,
        classes=classes,
        coverage=coverage,
        unlabelled_share=(
            float(np.mean([c.unlabelled_share for c in checks]))
            if weak_maps
            else None
        ),
        regions=(
            dict(
                median=float(np.median(regions)),
                min=int(min(regions)),
                max=int(max(regions)),
            )
            if regions
            else None
        ),
    )
    print('\n' + format_report(report))
    if args.out:
        save_json(args.out, report)
        print(f'report written to {osp.abspath(args.out)}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
