# Copyright (c) mmseg-spml contributors. All rights reserved.
import math

import numpy as np
import pytest

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.pseudo_masks.metrics import (
    confusion_matrix,
    label_coverage,
    pseudo_mask_scores,
)

V, U = IGNORE_INDEX, UNLABELLED
# 3 classes; one void pixel (predicted 1, must not count as a false
# positive of class 1) and two class-1 pixels the prediction leaves
# unlabelled.
GT = np.array([[0, 0, 1, 1], [2, 2, V, 1]], np.uint8)
PRED = np.array([[0, 1, 1, U], [2, 0, 1, U]], np.uint8)


def _close(scores, key, expected):
    got = [scores['per_class'][str(c)][key] for c in range(len(expected))]
    np.testing.assert_allclose(got, 100 * np.array(expected))


def test_ignore_policy():
    conf = confusion_matrix(PRED, GT, 3, unlabelled='ignore')
    assert conf.dtype == np.int64 and conf.shape == (3, 4)
    np.testing.assert_array_equal(
        conf, [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0]]
    )
    s = pseudo_mask_scores(conf)
    # TP 1,1,1; FP 1,1,0; FN 1,0,1
    _close(s, 'IoU', [1 / 3, 1 / 2, 1 / 2])
    _close(s, 'Precision', [1 / 2, 1 / 2, 1])
    _close(s, 'Recall', [1 / 2, 1, 1 / 2])
    assert s['mIoU'] == pytest.approx(100 * (1 / 3 + 1 / 2 + 1 / 2) / 3)
    assert s['mPrecision'] == pytest.approx(100 * 2 / 3)
    assert s['mRecall'] == pytest.approx(100 * 2 / 3)
    assert s['aAcc'] == pytest.approx(100 * 3 / 5)
    assert label_coverage(PRED, GT, 3) == (5, 7)


def test_background_policy():
    conf = confusion_matrix(PRED, GT, 3, unlabelled='background')
    np.testing.assert_array_equal(
        conf, [[1, 1, 0, 0], [2, 1, 0, 0], [1, 0, 1, 0]]
    )
    s = pseudo_mask_scores(conf)
    # TP 1,1,1; FP 3,1,0; FN 1,2,1
    _close(s, 'IoU', [1 / 5, 1 / 4, 1 / 2])
    _close(s, 'Precision', [1 / 4, 1 / 2, 1])
    _close(s, 'Recall', [1 / 2, 1 / 3, 1 / 2])
    assert s['aAcc'] == pytest.approx(100 * 3 / 7)


def test_wrong_policy():
    conf = confusion_matrix(PRED, GT, 3, unlabelled='wrong')
    np.testing.assert_array_equal(
        conf, [[1, 1, 0, 0], [0, 1, 0, 2], [1, 0, 1, 0]]
    )
    s = pseudo_mask_scores(conf)
    # TP 1,1,1; FP 1,1,0 (the misses are nobody's FP); FN 1,2,1
    _close(s, 'IoU', [1 / 3, 1 / 4, 1 / 2])
    _close(s, 'Precision', [1 / 2, 1 / 2, 1])
    _close(s, 'Recall', [1 / 2, 1 / 3, 1 / 2])
    assert s['aAcc'] == pytest.approx(100 * 3 / 7)


def test_any_out_of_range_prediction_has_no_class():
    pred = np.array([[0, V, 7, -1]])
    gt = np.array([[0, 1, 1, 1]])
    np.testing.assert_array_equal(
        confusion_matrix(pred, gt, 3, 'wrong'),
        [[1, 0, 0, 0], [0, 0, 0, 3], [0, 0, 0, 0]],
    )
    assert confusion_matrix(pred, gt, 3, 'ignore').sum() == 1
    assert label_coverage(pred, gt, 3) == (1, 4)


def test_absent_classes_are_nan_and_left_out_of_means():
    gt = np.array([[0, 0, 1, 1]])
    pred = np.array([[0, 0, 0, 2]])
    s = pseudo_mask_scores(
        confusion_matrix(pred, gt, 4), ['bg', 'cat', 'dog', 'cow']
    )
    assert list(s['per_class']) == ['bg', 'cat', 'dog', 'cow']
    # cow: nowhere -> NaN; cat: never predicted -> precision 0;
    # dog: not in the ground truth -> recall 0.
    assert all(math.isnan(v) for v in s['per_class']['cow'].values())
    assert s['per_class']['cat'] == dict(IoU=0.0, Precision=0.0, Recall=0.0)
    assert s['per_class']['dog']['Recall'] == 0.0
    assert s['per_class']['bg']['IoU'] == pytest.approx(100 * 2 / 3)
    assert s['mIoU'] == pytest.approx(100 * (2 / 3) / 3)
    assert s['mRecall'] == pytest.approx(100 / 3)
    assert s['mPrecision'] == pytest.approx(100 * (2 / 3) / 3)


def test_plain_square_matrix_and_empty():
    s = pseudo_mask_scores(np.array([[3, 1], [0, 4]]))
    assert s['per_class']['0']['Recall'] == pytest.approx(75.0)
    assert s['aAcc'] == pytest.approx(100 * 7 / 8)
    empty = pseudo_mask_scores(np.zeros((2, 3), np.int64))
    assert math.isnan(empty['mIoU']) and math.isnan(empty['aAcc'])


def test_matrices_add_up_over_images():
    rng = np.random.default_rng(0)
    gts = [rng.integers(0, 4, (5, 6)) for _ in range(3)]
    preds = [rng.integers(0, 5, (5, 6)) for _ in range(3)]
    total = sum(confusion_matrix(p, g, 4, 'wrong') for p, g in zip(preds, gts))
    whole = confusion_matrix(
        np.concatenate(preds), np.concatenate(gts), 4, 'wrong'
    )
    np.testing.assert_array_equal(total, whole)
    assert total.sum() == 90


def test_errors():
    with pytest.raises(ValueError, match=r'shape \(1, 2\).*\(2, 1\)'):
        confusion_matrix(np.zeros((1, 2)), np.zeros((2, 1)), 3)
    with pytest.raises(ValueError, match=r'values \[3, 254\] outside'):
        confusion_matrix(np.zeros((1, 3)), np.array([[3, U, V]]), 3)
    with pytest.raises(ValueError, match='unlabelled must be one of'):
        confusion_matrix(PRED, GT, 3, unlabelled='skip')
    with pytest.raises(ValueError, match='num_classes'):
        confusion_matrix(PRED, GT, 0)
    with pytest.raises(ValueError, match='2 class names for 3'):
        pseudo_mask_scores(np.zeros((3, 4)), ['a', 'b'])
    with pytest.raises(ValueError, match='shape'):
        pseudo_mask_scores(np.zeros((3, 5)))
