# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Folders of seeds or pseudo masks scored against full ground-truth masks
(``tools/analysis_tools/eval_pseudo_masks.py``), on top of
:mod:`~mmseg_spml.pseudo_masks.metrics`."""

import json
import math
import os.path as osp
from functools import partial
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..datasets.converters import VOC_CLASSES
from ..datasets.transforms.loading import read_label_map
from ..utils.io import image_names, save_json
from ..utils.parallel import map_with_progress
from .metrics import confusion_matrix, label_coverage, pseudo_mask_scores


def class_names_of(spec: Optional[str], num_classes: int) -> List[str]:
    """Class names from a comma-separated list or a JSON file.

    Args:
        spec (str, optional): ``'sky,road,car'``, or a JSON file holding a
            list of names or ``{"classes": [...]}``; None: the VOC classes
            for 21 classes, else the ids.
        num_classes (int): The number of names expected.

    Returns:
        list[str]: ``num_classes`` names.

    Raises:
        FileNotFoundError: If the JSON file does not exist.
        ValueError: If it holds no list, or the number of names differs.
    """
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


def label_file_counts(
    name: str,
    pred_dir: str,
    gt_dir: str,
    num_classes: int,
    unlabelled: str = 'ignore',
) -> Tuple[np.ndarray, int, int]:
    """Confusion matrix and coverage counts of one image's label files.

    Args:
        name (str): The image's stem: ``<pred_dir>/<name>.png`` against
            ``<gt_dir>/<name>.png``.
        pred_dir (str): Folder of predicted label PNGs.
        gt_dir (str): Folder of ground-truth label PNGs.
        num_classes (int): Number of classes.
        unlabelled (str): How prediction pixels without a class count
            (:data:`~mmseg_spml.pseudo_masks.metrics.UNLABELLED_POLICIES`).

    Returns:
        tuple: int64 (C, C + 1) confusion matrix, the number of labelled
        and of all non-void pixels.

    Raises:
        FileNotFoundError: If a file is missing.
        ValueError: If the shapes differ or the ground truth holds ids
            that are no class (the message names the file).
    """
    pred_path = osp.join(pred_dir, name + '.png')
    gt_path = osp.join(gt_dir, name + '.png')
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
        conf = confusion_matrix(pred, gt, num_classes, unlabelled)
    except ValueError as e:
        raise ValueError(f'{gt_path}: {e}') from None
    labelled, total = label_coverage(pred, gt, num_classes)
    return conf, labelled, total


def evaluate_label_folders(
    names: Sequence[str],
    pred_dir: str,
    gt_dir: str,
    class_names: Sequence[str],
    unlabelled: str = 'ignore',
    nproc: int = 1,
) -> dict:
    """Scores of the predicted label files of ``names``.

    Args:
        names (Sequence[str]): Image stems.
        pred_dir (str): Folder of predicted label PNGs.
        gt_dir (str): Folder of ground-truth label PNGs.
        class_names (Sequence[str]): One name per class.
        unlabelled (str): How prediction pixels without a class count.
        nproc (int): Worker processes.

    Returns:
        dict: :func:`~mmseg_spml.pseudo_masks.metrics.pseudo_mask_scores`
        plus ``coverage`` (percent of non-void pixels labelled),
        ``num_labelled``, ``num_pixels``, ``num_images``, ``num_classes``,
        ``unlabelled`` and ``confusion_matrix`` (nested lists).
    """
    worker = partial(
        label_file_counts,
        pred_dir=pred_dir,
        gt_dir=gt_dir,
        num_classes=len(class_names),
        unlabelled=unlabelled,
    )
    results = map_with_progress(worker, list(names), nproc)
    conf = sum(r[0] for r in results)
    labelled = sum(r[1] for r in results)
    total = sum(r[2] for r in results)
    metrics = pseudo_mask_scores(conf, list(class_names))
    metrics.update(
        coverage=100.0 * labelled / total if total else math.nan,
        num_labelled=int(labelled),
        num_pixels=int(total),
        num_images=len(names),
        num_classes=len(class_names),
        unlabelled=unlabelled,
        confusion_matrix=conf.tolist(),
    )
    return metrics


def format_number(value: Optional[float]) -> str:
    """A score with two decimals, ``n/a`` for NaN or None (undefined)."""
    if value is None or math.isnan(value):
        return 'n/a'
    return f'{value:.2f}'


def format_scores_table(metrics: dict) -> str:
    """Markdown table of the per-class scores and their means."""
    lines = [
        '| Class | IoU | Precision | Recall |',
        '|:--|--:|--:|--:|',
    ]
    fmt = format_number
    for name, scores in metrics['per_class'].items():
        lines.append(
            f'| {name} | {fmt(scores["IoU"])} | '
            f'{fmt(scores["Precision"])} | {fmt(scores["Recall"])} |'
        )
    lines.append(
        f'| **mean** | {fmt(metrics["mIoU"])} | '
        f'{fmt(metrics["mPrecision"])} | {fmt(metrics["mRecall"])} |'
    )
    return '\n'.join(lines)


def json_safe(obj):
    """``obj`` with NaN as None (JSON null), recursively."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj


def score_label_folder(
    pred_dir: str,
    gt_dir: str,
    class_names: Sequence[str],
    split: Optional[str] = None,
    unlabelled: str = 'ignore',
    nproc: int = 1,
    out: Optional[str] = None,
) -> dict:
    """:func:`evaluate_label_folders` over the names of ``split``, else of
    the PNGs in ``pred_dir``; NaN as None (JSON-safe), written to ``out``
    (atomically) when given.

    Raises:
        ValueError: If there is no image to score (or as
            :func:`label_file_counts`).
        FileNotFoundError: If a file is missing.
    """
    names = image_names(pred_dir, '.png', split)
    if not names:
        raise ValueError(f'no images to evaluate in {pred_dir}')
    metrics = json_safe(
        evaluate_label_folders(
            names, pred_dir, gt_dir, class_names, unlabelled, nproc
        )
    )
    if out:
        save_json(out, metrics)
    return metrics
