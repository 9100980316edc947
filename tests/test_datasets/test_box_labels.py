# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Box files and box label maps against hand-computed tiny examples."""

import json
import math

import numpy as np
import pytest

from mmseg_spml.datasets.box_labels import (
    box_class_mask,
    box_core_mask,
    box_labels_map,
    box_map,
    box_prior_labels,
    box_tags,
    check_box_map,
    check_boxes_in_image,
    default_core_ratio,
    filled_box_labels,
    load_boxes_file,
)
from mmseg_spml.label_encoding import UNLABELLED

U = UNLABELLED

# One row of 14 pixels: A (class 1) x 0..7, B (class 2) x 4..11,
# C (class 3) x 4..7, D (class 1) x 0..3; x 12..13 outside every box.
A, B, C, D = (
    (1, 0, 0, 7, 0),
    (2, 4, 0, 11, 0),
    (3, 4, 0, 7, 0),
    (1, 0, 0, 3, 0),
)
ROW = (1, 14)


# ------------------------------------------------------------ boxes.json


def _write(tmp_path, data):
    path = tmp_path / 'boxes.json'
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_load_boxes_file(tmp_path):
    path = _write(
        tmp_path, {'a': [[1, 0, 0, 3, 2], [15, 2, 1, 2, 1]], 'b': []}
    )
    boxes = load_boxes_file(path, num_classes=21)
    assert boxes == {'a': [(1, 0, 0, 3, 2), (15, 2, 1, 2, 1)], 'b': []}


@pytest.mark.parametrize(
    'data, match',
    [
        ('{"a": [[1, 0, 0', r'boxes.json is not valid JSON'),
        ('[[1, 0, 0, 1, 1]]', r'boxes.json must map image stems'),
        ({'a': {'x': 1}}, r'boxes.json: image a must have a list of boxes'),
        (
            {'a': [[1, 0, 0, 1, 1]], 'b': [[1, 0, 0, 1]]},
            r'boxes.json: image b, box 0: expected \[cls, x1, y1, x2, y2\] '
            r'\(5 integers\), got \[1, 0, 0, 1\]',
        ),
        ({'a': [[1, 0.5, 0, 1, 1]]}, r'image a, box 0: expected .*5 int'),
        ({'a': [[1, 0, 0, 1, True]]}, r'image a, box 0: expected .*5 int'),
        (
            {'a': [[1, 0, 0, 1, 1], [2, 3, 0, 1, 1]]},
            r'image a, box 1: \[2, 3, 0, 1, 1\] needs x1 <= x2 and y1 <= y2',
        ),
        ({'a': [[2, 0, 4, 1, 1]]}, r'image a, box 0: .* needs x1 <= x2'),
        ({'a': [[2, -1, 0, 1, 1]]}, r'image a, box 0: .* negative'),
        ({'a': [[0, 0, 0, 1, 1]]}, r'image a, box 0: class 0 .* foreground'),
        ({'a': [[21, 0, 0, 1, 1]]}, r'image a, box 0: class 21 .* 1\.\.20'),
        ({'a': [[254, 0, 0, 1, 1]]}, r'class 254 .* 1\.\.20'),
    ],
)
def test_load_boxes_file_errors_name_file_image_and_entry(
    tmp_path, data, match
):
    path = _write(tmp_path, data)
    with pytest.raises(ValueError, match=match) as info:
        load_boxes_file(path, num_classes=21)
    assert path in str(info.value)


def test_load_boxes_file_missing_says_who_writes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'nowhere.json .*voc_boxes'):
        load_boxes_file(str(tmp_path / 'nowhere.json'))
    # Without num_classes the limit is the encoding's: 253.
    path = _write(tmp_path, {'a': [[253, 0, 0, 1, 1]]})
    assert load_boxes_file(path) == {'a': [(253, 0, 0, 1, 1)]}


def test_check_boxes_in_image():
    check_boxes_in_image([(1, 0, 0, 4, 2)], (3, 5), 'x')
    with pytest.raises(
        ValueError,
        match=r'img1: box 1 \[1, 0, 0, 5, 2\] leaves the image of shape '
        r'\(H, W\) = \(3, 5\)',
    ):
        check_boxes_in_image(
            [(1, 0, 0, 4, 2), (1, 0, 0, 5, 2)], (3, 5), 'img1'
        )
    with pytest.raises(ValueError, match=r'box 0 .* leaves the image'):
        check_boxes_in_image([(1, 0, 0, 4, 3)], (3, 5), 'img1')


# ------------------------------------------------------------------- maps


def test_box_map_and_tags():
    label = box_map((3, 6), [(1, 0, 0, 1, 1), (2, 1, 1, 3, 2)])
    assert label.dtype == np.uint8
    assert label.tolist() == [
        [U, U, 0, 0, 0, 0],
        [U, U, U, U, 0, 0],
        [0, U, U, U, 0, 0],
    ]
    assert box_tags((3, 6), [(2, 1, 1, 3, 2), (1, 0, 0, 1, 1)]) == [0, 1, 2]
    # A box covering the whole image leaves no background tag.
    assert box_tags((3, 6), [(4, 0, 0, 5, 2)]) == [4]
    assert box_map((2, 2), []).tolist() == [[0, 0], [0, 0]]
    with pytest.raises(ValueError, match='leaves the image'):
        box_map((2, 2), [(1, 0, 0, 2, 1)])


def test_filled_box_labels_smaller_boxes_on_top():
    # A and B have equal area (8): list order, B on top of A.
    assert filled_box_labels(ROW, [A, B]).tolist() == [
        [1] * 4 + [2] * 8 + [0] * 2
    ]
    assert filled_box_labels(ROW, [B, A]).tolist() == [
        [1] * 8 + [2] * 4 + [0] * 2
    ]
    # C (area 4) is smaller than both: on top whatever the order.
    expected = [[1] * 4 + [3] * 4 + [2] * 4 + [0] * 2]
    assert filled_box_labels(ROW, [C, A, B]).tolist() == expected
    assert filled_box_labels(ROW, [A, B, C]).tolist() == expected


def test_default_core_ratio_covers_20_percent_of_the_box():
    assert default_core_ratio('box') == pytest.approx(0.4472, abs=1e-4)
    assert default_core_ratio('ellipse') == pytest.approx(0.5046, abs=1e-4)
    assert default_core_ratio('box') ** 2 == pytest.approx(0.2)
    assert math.pi / 4 * default_core_ratio('ellipse') ** 2 == (
        pytest.approx(0.2)
    )
    # On a large box the core's pixel count is close to 20% of the box.
    for core in ('box', 'ellipse'):
        mask = box_core_mask((300, 400), (1, 0, 0, 399, 299), core, None)
        assert mask.sum() / (300 * 400) == pytest.approx(0.2, abs=0.005)
    with pytest.raises(ValueError, match='core must be one of'):
        default_core_ratio('disk')


def test_box_core_shapes_hand_computed():
    # 10 x 5 box, ratio 0.6: half extents 3 and 1.5 about (4.5, 2).
    mask = box_core_mask((6, 11), (1, 0, 0, 9, 4), 'box', 0.6)
    expected = np.zeros((6, 11), bool)
    expected[1:4, 2:8] = True
    np.testing.assert_array_equal(mask, expected)
    # 7 x 7 box, ratio 1: the inscribed disk dx^2 + dy^2 <= 3.5^2.
    mask = box_core_mask((7, 8), (2, 0, 0, 6, 6), 'ellipse', 1.0)
    rows = ['..XXX...', '.XXXXX..', 'XXXXXXX.', 'XXXXXXX.', 'XXXXXXX.']
    rows += ['.XXXXX..', '..XXX...']
    assert [''.join('X' if v else '.' for v in r) for r in mask] == rows
    # Tiny boxes keep their central pixel(s).
    assert box_core_mask((2, 2), (1, 0, 0, 1, 1), 'ellipse', 0.1).all()
    mask = box_core_mask((1, 3), (1, 0, 0, 2, 0), 'box', 0.1)
    assert mask.tolist() == [[False, True, False]]


def test_box_prior_labels_overlap_rules():
    # Cores (box, ratio 0.5, half width 2): A x 2..5, B x 6..9, C x 5..6,
    # D x 1..2.
    label = box_prior_labels(ROW, [A, B, C, D], core='box', core_ratio=0.5)
    assert label.dtype == np.uint8
    # x0: in boxes A, D, no core -> U.  x1: D's core.  x2: cores of A and
    # D, both class 1 -> 1.  x3, x4: A's core (x4 is in B's and C's boxes,
    # not their cores) -> 1.  x5: cores of A (1) and C (3) -> U.  x6: B
    # (2) and C (3) -> U.  x7: B's core inside A's and C's boxes -> 2.
    # x8, x9: B's core.  x10, x11: B's border -> U.  x12, x13: outside.
    assert label.tolist() == [[U, 1, 1, 1, 1, U, U, 2, 2, 2, U, U, 0, 0]]
    # Default: an ellipse core of 20% of the box area. On the box's
    # centre row (dy = 0) it spans |x - cx| <= a, a = 0.5046 * 5 = 2.52
    # about cx = 4.5: x 2..7.
    label = box_prior_labels((1, 12), [(4, 0, 0, 9, 0)])
    assert label.tolist() == [[U, U, 4, 4, 4, 4, 4, 4, U, U, 0, 0]]
    with pytest.raises(ValueError, match='core_ratio must be in'):
        box_prior_labels(ROW, [A], core_ratio=1.5)
    with pytest.raises(ValueError, match='core must be one of'):
        box_prior_labels(ROW, [A], core='disk')


def test_box_labels_map_modes():
    boxes = [A, B]
    np.testing.assert_array_equal(
        box_labels_map(ROW, boxes), box_map(ROW, boxes)
    )
    np.testing.assert_array_equal(
        box_labels_map(ROW, boxes, 'filled'), filled_box_labels(ROW, boxes)
    )
    np.testing.assert_array_equal(
        box_labels_map(ROW, boxes, 'prior', 'box', 0.5),
        box_prior_labels(ROW, boxes, 'box', 0.5),
    )
    with pytest.raises(ValueError, match='box label mode must be one of'):
        box_labels_map(ROW, boxes, 'grabcut')


def test_box_class_mask():
    mask = box_class_mask(ROW, [A, B], num_classes=4)
    assert mask.dtype == bool and mask.shape == (4, 1, 14)
    assert mask[0].all()
    assert mask[1, 0].tolist() == [True] * 8 + [False] * 6
    assert mask[2, 0].tolist() == [False] * 4 + [True] * 8 + [False] * 2
    assert not mask[3].any()
    with pytest.raises(ValueError, match=r'box 1: class 2 .* 1\.\.1'):
        box_class_mask(ROW, [A, B], num_classes=2)


def test_check_box_map():
    boxes = [(1, 0, 0, 1, 0)]
    good = np.array([[U, U, 0, 0]], np.uint8)
    check_box_map(good, boxes, (1, 4), 'm.png')
    void = np.array([[U, 255, 0, 255]], np.uint8)
    check_box_map(void, boxes, (1, 4), 'm.png')
    with pytest.raises(
        ValueError, match=r'm.png has shape \(1, 3\), expected'
    ):
        check_box_map(good[:, :3], boxes, (1, 4), 'm.png')
    with pytest.raises(ValueError, match=r'm.png has values \[1\]; expected'):
        check_box_map(
            np.array([[1, U, 0, 0]], np.uint8), boxes, (1, 4), 'm.png'
        )
    with pytest.raises(ValueError, match=r'm.png disagrees with boxes.json'):
        check_box_map(
            np.array([[U, 0, 0, U]], np.uint8), boxes, (1, 4), 'm.png'
        )
