# Copyright (c) mmseg-spml contributors. All rights reserved.
"""CAM -> pseudo label functions against hand-computed tiny examples."""

import math

import pytest
import torch

from mmseg_spml.label_encoding import UNLABELLED
from mmseg_spml.pseudo_masks import (
    band_labels,
    binary_foreground,
    cams_to_labels,
    coefficient_of_variation_smoothing,
    normalize_cams,
    pmm_pseudo_labels,
    proportional_pseudo_mask,
)

U = UNLABELLED


def _t(*maps):
    """Float (K, H, W) tensor from K nested lists."""
    return torch.tensor(maps, dtype=torch.float32)


def _keys(*ids):
    return torch.tensor(ids, dtype=torch.long)


def _close(actual, expected, atol=1e-6):
    expected = torch.as_tensor(expected, dtype=actual.dtype)
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, atol=atol, rtol=0)


def _empty_cams(h=2, w=3):
    return torch.zeros(0, h, w), torch.zeros(0, dtype=torch.long)


def _blob(size=21, sigma=4.0):
    """(1, size, size) Gaussian blob with peak 1 at the centre."""
    r = torch.arange(size, dtype=torch.float32) - size // 2
    d2 = r[:, None] ** 2 + r[None, :] ** 2
    return torch.exp(-d2 / (2 * sigma**2))[None]


# ---------------------------------------------------------------- normalize


def test_normalize_cams_relu_then_max():
    cams = _t([[-1.0, 2.0, 4.0, 0.0]], [[0.0, 0.0, 0.0, 0.0]])
    out = normalize_cams(cams, eps=1.0)
    # relu -> [0, 2, 4, 0], divided by 4 + 1.
    _close(out, [[[0.0, 0.4, 0.8, 0.0]], [[0.0, 0.0, 0.0, 0.0]]])
    out = normalize_cams(cams)
    _close(out, [[[0.0, 0.5, 1.0, 0.0]], [[0.0] * 4]], atol=1e-5)
    assert out.max() < 1
    # eps 0 (tools/make_cams.py): exact peaks of 1, all-zero maps stay 0.
    out = normalize_cams(cams, eps=0)
    assert torch.equal(out, _t([[0.0, 0.5, 1.0, 0.0]], [[0.0] * 4]))
    with pytest.raises(ValueError, match='eps must be >= 0'):
        normalize_cams(cams, eps=-1.0)


def test_normalize_cams_empty():
    cams, _ = _empty_cams()
    assert normalize_cams(cams).shape == (0, 2, 3)


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


def test_cams_to_labels_no_foreground():
    cams, keys = _empty_cams()
    labels = cams_to_labels(cams, keys, alpha=6, threshold=0.2)
    assert labels.tolist() == [[0, 0, 0], [0, 0, 0]]


def test_cams_to_labels_alpha6_threshold02_never_leaves_unlabelled():
    """SPML's tag rule can never fire: max((1 - x) ** 6, x) >= 0.2219."""
    x = torch.linspace(0, 1, 10001)
    cams = x.view(1, 1, -1)
    labels = cams_to_labels(cams, _keys(1), alpha=6, threshold=0.2)
    assert (labels != U).all()
    # The smallest best score is at the root of (1 - x)^6 = x.
    best = torch.maximum((1 - x).pow(6), x).min().item()
    assert 0.2218 < best < 0.2220
    # A smooth blob, as a CAM looks, likewise: only 0 and the class.
    labels = cams_to_labels(_blob(), _keys(3), alpha=6, threshold=0.2)
    assert set(labels.unique().tolist()) == {0, 3}


def test_cams_to_labels_all_zero_cams():
    cams = torch.zeros(2, 1, 3)
    labels = cams_to_labels(cams, _keys(1, 2), alpha=6, threshold=0.2)
    assert labels.tolist() == [[0, 0, 0]]


# -------------------------------------------------------------- band_labels


def test_band_labels_hand_computed():
    cams = _t(
        [[0.0, 0.04, 0.05, 0.29, 0.30, 0.9]], [[0.0, 0.0, 0.0, 0.0, 0.0, 0.95]]
    )
    labels = band_labels(cams, _keys(4, 2))
    # max: 0, 0.04 (< 0.05 -> bg), 0.05 and 0.29 (band -> U), 0.30
    # (>= 0.30 -> class 4), 0.95 (class 2 wins over 4's 0.9).
    assert labels.dtype == torch.long
    assert labels.tolist() == [[0, 0, U, U, 4, 2]]
    # Other thresholds move the band.
    labels = band_labels(cams, _keys(4, 2), fg_threshold=0.2, bg_threshold=0.0)
    assert labels.tolist() == [[U, U, U, 4, 4, 2]]


def test_band_labels_ties_go_to_the_lower_class_id():
    cams = _t([[0.5]], [[0.5]])
    assert band_labels(cams, _keys(7, 3)).tolist() == [[3]]
    assert band_labels(cams, _keys(3, 7)).tolist() == [[3]]


def test_band_labels_no_foreground():
    cams, keys = _empty_cams()
    assert band_labels(cams, keys).tolist() == [[0, 0, 0], [0, 0, 0]]


def test_band_labels_leave_a_blob_edge_unlabelled():
    """A smooth blob gets a core of the class, a ring of unlabelled
    pixels, and background far away (the old rule: no ring)."""
    labels = band_labels(_blob(), _keys(3))
    values = labels.unique().tolist()
    assert values == [0, 3, U]
    # The centre is the class, the corner background; on the middle row
    # exp(-d^2 / 32) crosses 0.30 at d = 6.2 and 0.05 at d = 9.8.
    assert labels[10, 10] == 3 and labels[0, 0] == 0
    row = labels[10].tolist()
    assert row[10 - 6 : 10 + 7] == [3] * 13
    assert row[10 - 9 : 10 - 6] == [U] * 3 and row[10 + 7 : 10 + 10] == [U] * 3
    assert row[0] == 0 and row[20] == 0


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
            lambda: band_labels(_t([[0.5, 0.1]]), _keys(1), 0.2, 0.3),
            r'bg_threshold \(0.3\) must not exceed fg_threshold \(0.2\)',
        ),
        (
            lambda: band_labels(_t([[0.5, 0.1]]), _keys(1), 1.2, 0.3),
            r'fg_threshold must be in \[0, 1\]',
        ),
        (
            lambda: band_labels(_t([[0.5, 1.1]]), _keys(1)),
            r'cams must lie in \[0, 1\]',
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
    for out in (
        normalize_cams(zeros),
        coefficient_of_variation_smoothing(zeros),
    ):
        assert not torch.isnan(out).any()
        assert out.abs().sum().item() == 0
    assert not math.isnan(
        coefficient_of_variation_smoothing(_t([[0.0, 1.0]])).sum().item()
    )


def test_cam_class_scores_and_cam_files(tmp_path):
    import numpy as np

    from mmseg_spml.pseudo_masks import (
        cam_class_scores,
        load_cam_file,
        save_cam_file,
    )

    cams = torch.tensor([[[1.0, 0.5]], [[0.0, 0.25]]])  # (2, 1, 2)
    keys = torch.tensor([3, 1])
    scores = cam_class_scores(cams, keys, num_classes=5, bg_power=2)
    assert scores.shape == (5, 1, 2)
    assert scores[:, 0, 1].tolist() == [0.25, 0.25, 0.0, 0.5, 0.0]
    assert scores[0, 0, 0] == 0.0 and scores[3, 0, 0] == 1.0
    assert cam_class_scores(cams[:0], keys[:0], 5)[0].eq(1).all()
    with pytest.raises(ValueError, match='foreground ids'):
        cam_class_scores(cams, torch.tensor([0, 1]), 5)
    path = str(tmp_path / 'a.npz')
    save_cam_file(path, cams.numpy(), keys.numpy())
    loaded, loaded_keys = load_cam_file(path)
    assert loaded.dtype == torch.float32 and loaded_keys.tolist() == [3, 1]
    assert torch.equal(loaded, cams)  # exact in float16
    np.savez(str(tmp_path / 'bad.npz'), cams=cams.numpy())
    with pytest.raises(ValueError, match='bad.npz is not a CAM file'):
        load_cam_file(str(tmp_path / 'bad.npz'))
