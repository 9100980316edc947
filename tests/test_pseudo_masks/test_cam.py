# Copyright (c) mmseg-spml contributors. All rights reserved.
"""CAM -> pseudo label functions against hand-computed tiny examples."""

import math

import pytest
import torch

from mmseg_spml.datasets.constants import IGNORE_INDEX, UNLABELLED
from mmseg_spml.pseudo_masks import (
    binary_foreground,
    cams_to_labels,
    coefficient_of_variation_smoothing,
    normalize_cams,
    normalize_cams_in_boxes,
    pmm_pseudo_labels,
    proportional_pseudo_mask,
)

U = UNLABELLED
IGN = IGNORE_INDEX


def _t(*maps):
    """Float (K, H, W) tensor from K nested lists."""
    return torch.tensor(maps, dtype=torch.float32)


def _keys(*ids):
    return torch.tensor(ids, dtype=torch.long)


def _close(actual, expected, atol=1e-6):
    expected = torch.as_tensor(expected, dtype=actual.dtype)
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, atol=atol, rtol=0)


def _labels(rows):
    return torch.tensor(rows, dtype=torch.long)


def _empty_cams(h=2, w=3):
    return torch.zeros(0, h, w), torch.zeros(0, dtype=torch.long)


# ---------------------------------------------------------------- normalize


def test_normalize_cams_relu_then_max():
    cams = _t([[-1.0, 2.0, 4.0, 0.0]], [[0.0, 0.0, 0.0, 0.0]])
    out = normalize_cams(cams, eps=1.0)
    # relu -> [0, 2, 4, 0], divided by 4 + 1.
    _close(out, [[[0.0, 0.4, 0.8, 0.0]], [[0.0, 0.0, 0.0, 0.0]]])
    out = normalize_cams(cams)
    _close(out, [[[0.0, 0.5, 1.0, 0.0]], [[0.0] * 4]], atol=1e-5)
    assert out.max() < 1


def test_normalize_cams_empty():
    cams, _ = _empty_cams()
    assert normalize_cams(cams).shape == (0, 2, 3)


def test_normalize_cams_in_boxes_per_component():
    box_map = _labels([[1, 1, 0, 1, 1], [2, 2, 0, 1, 1]])
    cams = _t(
        [[0.2, 0.4, 0.9, -0.5, 0.5], [0.8, 0.1, 0.7, 1.5, 1.0]],
        [[0.9, 0.9, 0.9, 0.9, 0.9], [0.3, 0.6, 0.2, 0.2, 0.2]],
    )
    out = normalize_cams_in_boxes(cams, _keys(1, 2), box_map)
    # Class 1, left box: {0.2, 0.4} -> {0, 1}. Right box: relu'ed
    # {0, 0.5, 1.5, 1.0}, min 0, max 1.5. Outside class 1's boxes: 0.
    # Class 2: its box {0.3, 0.6} -> {0, 1}; the 0.9s are outside it.
    _close(
        out,
        [
            [[0.0, 1.0, 0.0, 0.0, 1 / 3], [0.0, 0.0, 0.0, 1.0, 2 / 3]],
            [[0.0] * 5, [0.0, 1.0, 0.0, 0.0, 0.0]],
        ],
    )


def test_normalize_cams_in_boxes_union_and_flat_region():
    # Two overlapping class-3 boxes form one L-shaped region (one
    # normalisation); the class-5 box is constant -> 0, not NaN.
    box_map = _labels([[3, 3, 0], [0, 3, 5], [254, 255, 5]])
    cams = _t(
        [[0.2, 0.6, 0.4], [0.9, 1.0, 0.3], [0.5, 0.5, 0.1]],
        [[0.1, 0.1, 0.1], [0.1, 0.1, 0.7], [0.1, 0.1, 0.7]],
    )
    out = normalize_cams_in_boxes(cams, _keys(3, 5), box_map)
    # {0.2, 0.6, 1.0}: min 0.2, span 0.8.
    _close(
        out,
        [
            [[0.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]],
            [[0.0] * 3] * 3,
        ],
    )


def test_normalize_cams_in_boxes_diagonal_boxes_are_separate():
    box_map = _labels([[4, 0], [0, 4]])
    cams = _t([[0.2, 0.9], [0.9, 0.8]])
    out = normalize_cams_in_boxes(cams, _keys(4), box_map)
    # Each single-pixel region is flat -> 0; one joint region would
    # have given 0 and 1.
    _close(out, [[[0.0, 0.0], [0.0, 0.0]]])


def test_normalize_cams_in_boxes_empty():
    cams, keys = _empty_cams(1, 2)
    out = normalize_cams_in_boxes(cams, keys, _labels([[0, 0]]))
    assert out.shape == (0, 1, 2)


# ----------------------------------------------------------- cams_to_labels


def test_cams_to_labels_argmax_and_ties():
    cams = _t([[0.9, 0.2, 0.0, 0.5]], [[0.1, 0.4, 0.0, 0.5]])
    labels = cams_to_labels(cams, _keys(3, 7), alpha=2, threshold=0.3)
    # bg = (1 - [0.9, 0.4, 0, 0.5])^2 = [0.01, 0.36, 1, 0.25];
    # pixel 3 ties 3/7 at 0.5 -> first class.
    assert labels.dtype == torch.long
    assert labels.tolist() == [[3, 7, 0, 3]]


def test_cams_to_labels_threshold_unlabelled():
    cams = _t([[0.9, 0.3, 0.05, 0.12]])
    labels = cams_to_labels(cams, _keys(5), alpha=6, threshold=0.5)
    # bg = 0.1^6, 0.7^6 = 0.1176, 0.95^6 = 0.735, 0.88^6 = 0.464:
    # pixels 1 and 3 peak below 0.5.
    assert labels.tolist() == [[5, U, 0, U]]
    # A lower threshold labels them (fg 0.3, bg 0.464).
    labels = cams_to_labels(cams, _keys(5), alpha=6, threshold=0.2)
    assert labels.tolist() == [[5, 5, 0, 0]]


def test_cams_to_labels_boxes():
    box_map = _labels([[0, 2, 2, 255], [4, 2, 4, 254]])
    cams = _t(
        [[0.9, 0.8, 0.3, 0.9], [0.9, 0.1, 0.9, 0.9]],
        [[0.0, 0.95, 0.2, 0.9], [0.6, 0.0, 0.2, 0.9]],
    )
    keys = _keys(2, 4)
    labels = cams_to_labels(cams, keys, 2, 0.5, box_map=box_map)
    # Masked to own boxes: class 2 [[0, .8, .3, 0], [0, .1, 0, 0]],
    # class 4 [[0, 0, 0, 0], [.6, 0, .2, 0]];
    # bg = (1 - max)^2 = [[1, .04, .49, 1], [.16, .81, .64, 1]].
    # (0, 1): class 4's 0.95 is outside its boxes -> 2.
    # (0, 2): best 0.49 < 0.5 -> unlabelled. 254/255 copied.
    assert labels.tolist() == [[0, 2, U, IGN], [4, 0, 0, U]]
    # Without boxes (0, 1) goes to the larger activation, class 4.
    assert cams_to_labels(cams, keys, 2, 0.5)[0, 1].item() == 4


def test_cams_to_labels_outside_boxes_is_background():
    box_map = _labels([[0, 0, 6]])
    cams = _t([[1.0, 0.3, 1.0]])
    labels = cams_to_labels(cams, _keys(6), 6, 0.5, box_map=box_map)
    # Without boxes: [6, U, 6].
    assert cams_to_labels(cams, _keys(6), 6, 0.5).tolist() == [[6, U, 6]]
    assert labels.tolist() == [[0, 0, 6]]


def test_cams_to_labels_no_foreground():
    cams, keys = _empty_cams()
    labels = cams_to_labels(cams, keys, alpha=6, threshold=0.2)
    assert labels.tolist() == [[0, 0, 0], [0, 0, 0]]
    box_map = _labels([[0, 254, 255], [0, 0, 0]])
    labels = cams_to_labels(cams, keys, 6, 0.5, box_map=box_map)
    assert labels.tolist() == [[0, U, IGN], [0, 0, 0]]


def test_cams_to_labels_all_zero_cams():
    cams = torch.zeros(2, 1, 3)
    labels = cams_to_labels(cams, _keys(1, 2), alpha=6, threshold=0.2)
    assert labels.tolist() == [[0, 0, 0]]


# ---------------------------------------------------------------------- CVS


def test_cvs_hand_computed():
    cams = _t(
        [[0.0, 0.04, 0.05, 0.2, 0.8]],
        [[0.0, 0.0, 0.0, 0.0, 0.0]],
        [[0.5, 0.5, 0.5, 0.5, 0.5]],
    )
    out = coefficient_of_variation_smoothing(cams, threshold=0.05, scale=0.3)
    # Class 0: S = {0.2, 0.8} (0.05 is not > t); mean 0.5, population
    # std 0.3 (sample std would be 0.424); cv = 0.3 * 0.3 / 0.5 = 0.18;
    # exponent 0.82. 0.04 < t -> 0; 0.05 >= t is kept.
    # Class 1: S empty -> cv 0 -> unchanged zeros (no NaN).
    # Class 2: std 0 -> cv 0 -> unchanged.
    e = 0.82
    _close(
        out,
        [
            [[0.0, 0.0, 0.05**e, 0.2**e, 0.8**e]],
            [[0.0] * 5],
            [[0.5] * 5],
        ],
    )
    assert out[0, 0, 3].item() == pytest.approx(0.267205, abs=1e-5)


def test_cvs_scale_zero_only_thresholds():
    cams = _t([[0.01, 0.3, 0.9]])
    out = coefficient_of_variation_smoothing(cams, threshold=0.05, scale=0)
    _close(out, [[[0.0, 0.3, 0.9]]])


def test_cvs_empty():
    cams, _ = _empty_cams()
    assert coefficient_of_variation_smoothing(cams).shape == (0, 2, 3)


# --------------------------------------------------------------------- PPMG


def test_binary_foreground():
    cams = _t([[0.0, 0.3, 0.4, 0.5, 1.0]])
    # (1 - v)^2 = [1, 0.49, 0.36, 0.25, 0].
    assert binary_foreground(cams, alpha=2).tolist() == [
        [[False, False, True, True, True]]
    ]
    # alpha 11: 0.85^11 = 0.167 > 0.15; 0.8^11 = 0.086 < 0.2.
    cams = _t([[0.15, 0.2]])
    assert binary_foreground(cams).tolist() == [[[False, True]]]


def test_ppmg_small_concentrated_object_wins_overlap():
    # Class 1: large object, activation 0.9 on 5 pixels and 0.6 on the
    # overlap pixel 5. Class 2: small object, only pixel 5, 0.5.
    cams = _t(
        [[0.9, 0.9, 0.9, 0.9, 0.9, 0.6, 0.3]],
        [[0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0]],
    )
    fg = torch.tensor(
        [
            [[True, True, True, True, True, True, False]],
            [[False, False, False, False, False, True, False]],
        ]
    )
    labels = proportional_pseudo_mask(cams, fg, _keys(1, 2))
    # p_1(5) = 0.6 / (1 + 5.1) = 0.098 < p_2(5) = 0.5 / (1 + 0.5) = 0.333,
    # although 0.6 > 0.5. Pixel 6 is foreground of nobody -> 0.
    assert labels.tolist() == [[1, 1, 1, 1, 1, 2, 0]]


def test_ppmg_mass_counts_foreground_only():
    cams = _t([[0.5, 0.9, 0.9, 0.9]], [[0.6, 0.9, 0.0, 0.0]])
    fg = torch.tensor(
        [[[True, False, False, False]], [[True, True, True, False]]]
    )
    labels = proportional_pseudo_mask(cams, fg, _keys(8, 9))
    # Mass in own foreground: class 8 0.5, class 9 1.5.
    # Pixel 0: p_8 = 0.5 / 1.5 = 0.333 > p_9 = 0.6 / 2.5 = 0.24 -> 8
    # (with the mass over all pixels p_8 = 0.5 / 4.2 would lose).
    # Pixel 1: only 9 is foreground (p_8 would be higher) -> 9.
    # Pixel 2: 9 is foreground with v = 0, 8 is not -> 9.
    assert labels.tolist() == [[8, 9, 9, 0]]


def test_ppmg_no_foreground_classes():
    cams, keys = _empty_cams()
    fg = torch.zeros(0, 2, 3, dtype=torch.bool)
    labels = proportional_pseudo_mask(cams, fg, keys)
    assert labels.tolist() == [[0, 0, 0], [0, 0, 0]]


def test_pmm_pseudo_labels_flags():
    cams = _t([[0.8, 0.2, 0.1, 0.13, 0.0]])
    keys = _keys(3)
    # CVS: S = {.8, .2, .1, .13}, mean .3075, population std .28665,
    # cv .27966, exponent .72034 -> [.8515, .3137, .1905, .2300, 0].
    # PPMG fg (alpha 11): raw .1 < .9^11 = .314, .13 < .87^11 = .216;
    # smoothed .1905 > .8095^11 = .098, .23 > .77^11 = .056.
    # Threshold (alpha 6, 0.2): raw .2 < .8^6 = .262, .13 < .87^6 = .434;
    # smoothed .3137 > .6863^6 = .105, .23 > .77^6 = .209,
    # .1905 < .8095^6 = .282.
    out = {
        (cvs, ppmg): pmm_pseudo_labels(
            cams, keys, use_cvs=cvs, use_ppmg=ppmg
        ).tolist()
        for cvs in (True, False)
        for ppmg in (True, False)
    }
    assert out[True, True] == [[3, 3, 3, 3, 0]]
    assert out[False, True] == [[3, 3, 0, 0, 0]]
    assert out[True, False] == [[3, 3, 0, 3, 0]]
    assert out[False, False] == [[3, 0, 0, 0, 0]]


def test_pmm_pseudo_labels_ppmg_uses_raw_cams_for_importance():
    # Both classes are foreground on pixel 1. Raw importance:
    # p_1 = 0.5 / (1 + 1.5) = 0.2 < p_2 = 0.4 / (1 + 0.4) = 0.286 -> 2.
    cams = _t([[1.0, 0.5, 0.0]], [[0.0, 0.4, 0.0]])
    labels = pmm_pseudo_labels(cams, _keys(1, 2))
    assert labels.tolist() == [[1, 2, 0]]


def test_pmm_pseudo_labels_empty_and_zero():
    cams, keys = _empty_cams()
    for ppmg in (True, False):
        labels = pmm_pseudo_labels(cams, keys, use_ppmg=ppmg)
        assert labels.tolist() == [[0, 0, 0], [0, 0, 0]]
        labels = pmm_pseudo_labels(torch.zeros(1, 1, 2), _keys(4))
        assert labels.tolist() == [[0, 0]]


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    'call, match',
    [
        (lambda: normalize_cams(torch.zeros(2, 3)), r'cams must have shape'),
        (
            lambda: normalize_cams(torch.zeros(1, 2, 2, dtype=torch.long)),
            r'cams must be a float',
        ),
        (
            lambda: cams_to_labels(torch.zeros(2, 1, 2), _keys(1), 6, 0.2),
            r'keys must have shape \(K, \) = \(2, \)',
        ),
        (
            lambda: cams_to_labels(torch.zeros(1, 1, 2), _keys(0), 6, 0.2),
            r'keys must be foreground class ids',
        ),
        (
            lambda: cams_to_labels(torch.zeros(1, 1, 2), _keys(254), 6, 0.2),
            r'keys must be foreground class ids',
        ),
        (
            lambda: cams_to_labels(torch.zeros(2, 1, 2), _keys(3, 3), 6, 0.2),
            r'keys must be distinct',
        ),
        (
            lambda: cams_to_labels(
                torch.zeros(1, 1, 2), torch.tensor([1.0]), 6, 0.2
            ),
            r'keys must be an integer',
        ),
        (
            lambda: cams_to_labels(_t([[0.5, 1.5]]), _keys(1), 6, 0.2),
            r'cams must lie in \[0, 1\]',
        ),
        (
            lambda: cams_to_labels(_t([[0.5, -0.1]]), _keys(1), 6, 0.2),
            r'cams must lie in \[0, 1\]',
        ),
        (
            lambda: cams_to_labels(_t([[0.5, 0.1]]), _keys(1), 6, 1.5),
            r'threshold must be in \[0, 1\]',
        ),
        (
            lambda: cams_to_labels(_t([[0.5, 0.1]]), _keys(1), 0, 0.5),
            r'alpha must be > 0',
        ),
        (
            lambda: cams_to_labels(
                _t([[0.5, 0.1]]), _keys(1), 6, 0.5, _labels([[1, 0, 0]])
            ),
            r'box_map must have shape \(H, W\) = \(1, 2\)',
        ),
        (
            lambda: cams_to_labels(
                _t([[0.5, 0.1]]), _keys(1), 6, 0.5, _labels([[1, 7]])
            ),
            r'classes \[7\] that are not in keys',
        ),
        (
            lambda: normalize_cams_in_boxes(
                _t([[0.5, 0.1]]), _keys(1), _labels([[1, 256]])
            ),
            r'box_map values must be class ids',
        ),
        (
            lambda: coefficient_of_variation_smoothing(_t([[2.0]])),
            r'cams must lie in \[0, 1\]',
        ),
        (
            lambda: binary_foreground(_t([[2.0]])),
            r'cams must lie in \[0, 1\]',
        ),
        (
            lambda: proportional_pseudo_mask(
                _t([[0.5]]), torch.ones(2, 1, 1, dtype=torch.bool), _keys(1)
            ),
            r'foreground must have shape \(K, H, W\) = \(1, 1, 1\)',
        ),
        (
            lambda: proportional_pseudo_mask(
                _t([[0.5]]), torch.ones(1, 1, 1), _keys(1)
            ),
            r'foreground must be a bool',
        ),
        (
            lambda: pmm_pseudo_labels(_t([[0.5]]), _keys(1, 2)),
            r'keys must have shape',
        ),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_no_nan_on_all_zero_inputs():
    zeros = torch.zeros(2, 2, 2)
    keys = _keys(1, 2)
    box_map = _labels([[1, 2], [0, 0]])
    for out in (
        normalize_cams(zeros),
        normalize_cams_in_boxes(zeros, keys, box_map),
        coefficient_of_variation_smoothing(zeros),
    ):
        assert not torch.isnan(out).any()
        assert out.abs().sum().item() == 0
    assert not math.isnan(
        coefficient_of_variation_smoothing(_t([[0.0, 1.0]])).sum().item()
    )
