# Copyright (c) mmseg-spml contributors. All rights reserved.
"""CAM-in-box labels from box lists against hand-computed tiny examples."""

import pytest
import torch

from mmseg_spml.label_encoding import UNLABELLED
from mmseg_spml.pseudo_masks import box_normalized_cams, cam_in_box_labels

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


def test_box_normalized_cams_box_by_box_max_over_same_class():
    cams = _t([[0.2, 0.4, 0.6, 0.8, 0.9]])
    # Two class-2 boxes overlapping at x = 2: x 0..2 and x 2..3.
    boxes = [(2, 0, 0, 2, 0), (2, 2, 0, 3, 0)]
    out = box_normalized_cams(cams, _keys(2), boxes)
    # Box 1: {0.2, 0.4, 0.6} -> {0, 0.5, 1}; box 2: {0.6, 0.8} -> {0, 1};
    # x = 2 takes max(1, 0). Outside: 0. (Their union normalised at once
    # would give 0, 1/3, 2/3, 1.)
    _close(out, [[[0.0, 0.5, 1.0, 1.0, 0.0]]])


def test_box_normalized_cams_relu_flat_box_and_other_classes():
    cams = _t([[-1.0, 0.5, 1.0, 0.3, 0.3]], [[0.7, 0.7, 0.7, 0.7, 0.7]])
    boxes = [(1, 0, 0, 2, 0), (1, 3, 0, 4, 0)]
    out = box_normalized_cams(cams, _keys(1, 6), boxes)
    # relu -> {0, 0.5, 1}; the flat box {0.3, 0.3} -> 0, not NaN; class 6
    # has no box: 0 everywhere.
    _close(out, [[[0.0, 0.5, 1.0, 0.0, 0.0]], [[0.0] * 5]])


def test_cam_in_box_labels_overlapping_classes():
    # Class 5's box: x 0..3; class 3's box: x 2..5; x = 6 outside both.
    boxes = [(5, 0, 0, 3, 0), (3, 2, 0, 5, 0)]
    cams = _t(
        [[0.0, 1.0, 0.8, 0.3, 0.9, 0.9, 0.9]],
        [[0.9, 0.9, 0.2, 0.6, 1.0, 0.4, 1.0]],
    )
    labels = cam_in_box_labels(cams, _keys(5, 3), boxes)
    # In-box values: class 5 [0, 1, 0.8, 0.3] (min 0, max 1), class 3
    # [0, 0.5, 1, 0.25] at x 2..5 (min 0.2, span 0.8).
    # x0: 0 -> bg score 1 -> 0.  x1: 1 -> 5.  x2: 5's 0.8 beats 3's 0 -> 5.
    # x3: 3's 0.5 beats 5's 0.3, 0.5 >= 0.5 -> 3.  x4: 1 -> 3.
    # x5: 0.25: bg 0.75^6 = 0.18, both < 0.5 -> unlabelled.
    # x6: outside every box -> 0 whatever the CAMs.
    assert labels.dtype == torch.long
    assert labels.tolist() == [[0, 5, 5, 3, 3, U, 0]]
    # The SPML rule's band: x <= 0.109 is background, (0.109, 0.5) open.
    cams = _t([[0.0, 0.1, 0.2, 1.0]])
    labels = cam_in_box_labels(cams, _keys(4), [(4, 0, 0, 3, 0)])
    assert labels.tolist() == [[0, 0, U, 4]]
    # alpha and threshold are passed on.
    labels = cam_in_box_labels(
        cams, _keys(4), [(4, 0, 0, 3, 0)], alpha=12, threshold=0.2
    )
    # alpha 12: bg at x = 0.1 is 0.28 (>= 0.2, > 0.1) -> 0; at x = 0.2 it
    # is 0.069 < 0.2 = x -> class 4.
    assert labels.tolist() == [[0, 0, 4, 4]]


def test_cam_in_box_labels_ties_go_to_the_lower_class_id():
    boxes = [(5, 0, 0, 1, 0), (3, 0, 0, 1, 0)]
    cams = _t([[0.0, 1.0]], [[0.0, 1.0]])
    for keys, maps in ((_keys(5, 3), cams), (_keys(3, 5), cams.flip(0))):
        assert cam_in_box_labels(maps, keys, boxes).tolist() == [[0, 3]]


def test_cam_in_box_labels_without_boxes_is_background():
    cams = _t([[1.0, 1.0]])
    assert cam_in_box_labels(cams, _keys(2), []).tolist() == [[0, 0]]
    empty = torch.zeros(0, 1, 2), torch.zeros(0, dtype=torch.long)
    assert cam_in_box_labels(*empty, []).tolist() == [[0, 0]]


@pytest.mark.parametrize(
    'boxes, match',
    [
        ([(4, 0, 0, 1, 0)], r'class\(es\) \[4\] have no CAM'),
        ([(2, 0, 0, 2, 0)], r'box 0 \[2, 0, 0, 2, 0\] leaves the image'),
        ([(0, 0, 0, 1, 0)], r'box 0: class 0 .* foreground class'),
        ([(2, 1, 0, 0, 0)], r'box 0: .* x1 <= x2'),
        ([(2, 0, 0, 1)], r'box 0: expected \[cls, x1, y1, x2, y2\]'),
        (torch.tensor([[2, 2]]), r'boxes must be a list of'),
    ],
)
def test_errors(boxes, match):
    with pytest.raises(ValueError, match=match):
        cam_in_box_labels(_t([[0.5, 0.1]]), _keys(2), boxes)
