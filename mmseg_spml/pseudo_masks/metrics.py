# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Quality of seeds and pseudo masks against full ground truth.

The numbers weakly supervised segmentation papers report for their pseudo
masks: per-class IoU, precision and recall, their means and the pixel
accuracy, from a confusion matrix accumulated over a data set.

Ground-truth pixels equal to :data:`IGNORE_INDEX` (void) take part in
nothing. A prediction may leave pixels without a class (any value outside
``[0, num_classes)``, usually :data:`UNLABELLED`); ``unlabelled`` decides
how they count:

* ``'ignore'``: skipped, so the scores measure the labelled pixels only
  (report :func:`label_coverage` next to them);
* ``'background'``: counted as class 0;
* ``'wrong'``: counted as a miss, a false negative of the ground-truth
  class and a false positive of no class.

To hold the misses, the confusion matrix has one column more than there
are classes: ``conf[g, p]`` counts pixels of ground-truth class ``g``
predicted as class ``p`` and ``conf[g, num_classes]`` those of class ``g``
left without a class (non-zero only under ``'wrong'``).
"""

import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from mmseg_spml.label_encoding import IGNORE_INDEX, MAX_CLASSES

#: Ways to count predicted pixels without a class.
UNLABELLED_POLICIES = ('ignore', 'background', 'wrong')


def _check_inputs(
    pred: np.ndarray, gt: np.ndarray, num_classes: int
) -> Tuple[np.ndarray, np.ndarray]:
    """Validate the arguments; return the non-void (pred, gt) pixels as
    int64 vectors of shape (N,)."""
    if not 1 <= num_classes <= MAX_CLASSES:
        raise ValueError(
            f'num_classes must be in [1, {MAX_CLASSES}], got {num_classes}'
        )
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(
            f'prediction has shape {pred.shape} but ground truth has '
            f'{gt.shape}'
        )
    valid = gt != IGNORE_INDEX
    gt_valid = gt[valid].astype(np.int64)
    bad = (gt_valid < 0) | (gt_valid >= num_classes)
    if bad.any():
        values = np.unique(gt_valid[bad])
        raise ValueError(
            f'ground truth has label values {values[:10].tolist()} outside '
            f'[0, {num_classes}) other than {IGNORE_INDEX} (void)'
        )
    return pred[valid].astype(np.int64), gt_valid


def confusion_matrix(
    pred: np.ndarray,
    gt: np.ndarray,
    num_classes: int,
    unlabelled: str = 'ignore',
) -> np.ndarray:
    """Confusion matrix of a prediction against the ground truth.

    Example:
        >>> gt = np.array([[0, 1, 255]])
        >>> pred = np.array([[0, 254, 1]])
        >>> confusion_matrix(pred, gt, 2, unlabelled='wrong')
        array([[1, 0, 0],
               [0, 0, 1]])

    Args:
        pred (np.ndarray): Predicted class ids, any integer array, e.g.
            (H, W); values outside ``[0, num_classes)`` mean "no class".
        gt (np.ndarray): Ground-truth class ids of the same shape, in
            ``[0, num_classes)`` or :data:`IGNORE_INDEX`.
        num_classes (int): Number of classes C, at most
            :data:`MAX_CLASSES`.
        unlabelled (str): How predicted pixels without a class count: one
            of :data:`UNLABELLED_POLICIES` (see the module docstring).
            Default: 'ignore'.

    Returns:
        np.ndarray: int64 (C, C + 1), rows ground truth, columns
        prediction; the last column counts misses under ``'wrong'``.

    Raises:
        ValueError: For a shape mismatch, ground-truth values out of range
            or an unknown policy.
    """
    if unlabelled not in UNLABELLED_POLICIES:
        raise ValueError(
            f'unlabelled must be one of {UNLABELLED_POLICIES}, '
            f'got {unlabelled!r}'
        )
    pred_valid, gt_valid = _check_inputs(pred, gt, num_classes)
    no_class = (pred_valid < 0) | (pred_valid >= num_classes)
    if unlabelled == 'ignore':
        pred_valid, gt_valid = pred_valid[~no_class], gt_valid[~no_class]
    else:
        pred_valid[no_class] = 0 if unlabelled == 'background' else num_classes
    width = num_classes + 1
    counts = np.bincount(
        gt_valid * width + pred_valid, minlength=num_classes * width
    )
    return counts.reshape(num_classes, width).astype(np.int64)


def label_coverage(
    pred: np.ndarray, gt: np.ndarray, num_classes: int
) -> Tuple[int, int]:
    """How many non-void ground-truth pixels the prediction gives a class.

    Args:
        pred (np.ndarray): Predicted class ids, e.g. (H, W).
        gt (np.ndarray): Ground-truth class ids of the same shape.
        num_classes (int): Number of classes C.

    Returns:
        tuple[int, int]: Pixels with a predicted class in ``[0, C)`` and
        all pixels, both counted where the ground truth is not void.

    Raises:
        ValueError: As :func:`confusion_matrix`.
    """
    pred_valid, _ = _check_inputs(pred, gt, num_classes)
    labelled = (pred_valid >= 0) & (pred_valid < num_classes)
    return int(labelled.sum()), int(pred_valid.size)


def _percent(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``100 * num / den`` with 0 where ``den`` is 0."""
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(100.0 * num, den, out=out, where=den > 0)
    return out


def _nanmean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else math.nan


def pseudo_mask_scores(
    conf: np.ndarray, class_names: Optional[Sequence[str]] = None
) -> Dict:
    """Per-class and mean IoU, precision and recall, in percent.

    A class absent from both the ground truth and the prediction gets NaN
    and is left out of the means. A class present in only one of them gets
    0 for the ratio that would divide by zero (its precision if it is
    never predicted, its recall if it is not in the ground truth).

    Args:
        conf (np.ndarray): (C, C + 1) matrix from :func:`confusion_matrix`
            (summed over images), or a plain (C, C) one; rows ground truth,
            columns prediction.
        class_names (Sequence[str], optional): C names; default the ids as
            strings.

    Returns:
        dict: ``per_class``: ``{name: {'IoU', 'Precision', 'Recall'}}``;
        ``mIoU``, ``mPrecision``, ``mRecall``: means over the classes that
        are not NaN; ``aAcc``: correct over counted pixels. All floats in
        percent, NaN where undefined.

    Raises:
        ValueError: For a matrix of another shape or a wrong number of
            class names.
    """
    conf = np.asarray(conf, dtype=np.int64)
    num_classes = conf.shape[0] if conf.ndim == 2 else 0
    if conf.ndim != 2 or conf.shape[1] not in (num_classes, num_classes + 1):
        raise ValueError(
            f'conf must have shape (C, C) or (C, C + 1), got {conf.shape}'
        )
    if class_names is None:
        class_names = [str(i) for i in range(num_classes)]
    if len(class_names) != num_classes:
        raise ValueError(
            f'got {len(class_names)} class names for {num_classes} classes'
        )
    tp = np.diag(conf[:, :num_classes])
    gt_total = conf.sum(axis=1)  # TP + FN, misses included
    pred_total = conf[:, :num_classes].sum(axis=0)  # TP + FP
    union = gt_total + pred_total - tp
    absent = union == 0
    scores = {
        'IoU': _percent(tp, union),
        'Precision': _percent(tp, pred_total),
        'Recall': _percent(tp, gt_total),
    }
    for values in scores.values():
        values[absent] = np.nan
    total = conf.sum()
    return {
        'per_class': {
            name: {key: float(values[i]) for key, values in scores.items()}
            for i, name in enumerate(class_names)
        },
        'mIoU': _nanmean(scores['IoU']),
        'mPrecision': _nanmean(scores['Precision']),
        'mRecall': _nanmean(scores['Recall']),
        'aAcc': float(100.0 * tp.sum() / total) if total else math.nan,
    }
