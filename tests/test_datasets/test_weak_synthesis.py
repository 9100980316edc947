# Copyright (c) mmseg-spml contributors. All rights reserved.
import numpy as np
import pytest

from mmseg_spml.datasets.box_labels import (
    box_prior_labels,
    filled_box_labels,
)
from mmseg_spml.datasets.weak_synthesis import (
    VOC_REFERENCE_SHAPE,
    image_seed,
    image_tags,
    interior_point,
    iter_regions,
    scaled_radius,
    synthesize_boxes,
    synthesize_points,
    synthesize_scribbles,
    synthesize_weak_labels,
)
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED


def _scene():
    """10x12 map: background, a 4x6 class-2 block, two class-1 squares,
    a void border row."""
    sem = np.zeros((10, 12), np.uint8)
    sem[1:5, 1:7] = 2
    sem[6:9, 1:4] = 1
    sem[6:9, 8:11] = 1
    sem[9, :] = IGNORE_INDEX
    return sem


def test_iter_regions_components_and_instances():
    sem = _scene()
    regions = list(iter_regions(sem))
    assert [c for c, _ in regions] == [0, 1, 1, 2]
    assert [int(m.sum()) for _, m in regions] == [108 - 24 - 18, 9, 9, 24]
    # With an instance map, the two class-1 squares stay separate even if
    # they touch, and background (no instance) is split by connectivity.
    inst = np.zeros_like(sem)
    inst[6:9, 1:4] = 1
    inst[6:9, 8:11] = 2
    inst[1:5, 1:7] = 3
    regions = list(iter_regions(sem, inst, ignore_background=True))
    assert [(c, int(m.sum())) for c, m in regions] == [(1, 9), (1, 9), (2, 24)]
    with pytest.raises(ValueError, match='instance map has shape'):
        list(iter_regions(sem, inst[:5]))


def test_image_tags():
    sem = _scene()
    assert image_tags(sem, num_classes=3) == [0, 1, 2]
    assert image_tags(sem, num_classes=2) == [0, 1]
    assert image_tags(np.full((2, 2), UNLABELLED), 3) == []


def test_interior_point_is_the_centre():
    mask = np.zeros((7, 9), bool)
    mask[1:6, 2:7] = True  # 5x5 square, centre (3, 4)
    rng = np.random.default_rng(0)
    assert interior_point(mask, rng) == (3, 4)
    # A looser ratio gives other interior points, never border pixels.
    pts = {interior_point(mask, rng, 0.5) for _ in range(50)}
    assert (3, 4) in pts and len(pts) > 1
    assert all(2 <= y <= 4 and 3 <= x <= 5 for y, x in pts)
    with pytest.raises(ValueError, match='interior_ratio'):
        interior_point(mask, rng, 0.0)


def test_points_hand_computed():
    sem = _scene()
    weak = synthesize_points(sem, radius=0)
    expected = np.full(sem.shape, UNLABELLED, np.uint8)
    expected[7, 2] = 1  # centres of the 3x3 squares
    expected[7, 9] = 1
    labelled = weak != UNLABELLED
    # Class 2 (4x6 block) and background get one pixel each.
    assert labelled.sum() == 4
    assert weak[7, 2] == 1 and weak[7, 9] == 1
    assert (weak == 2).sum() == 1 and (weak == 0).sum() == 1
    ys, xs = np.nonzero(weak == 2)
    assert 2 <= ys[0] <= 3 and 3 <= xs[0] <= 4
    np.testing.assert_array_equal(weak[expected == 1], 1)


def test_points_are_dilated_inside_their_region_only():
    sem = _scene()
    weak = synthesize_points(sem, radius=6)
    for cls in (0, 1, 2):
        assert np.all(sem[weak == cls] == cls)
    # Void is never labelled.
    assert np.all(weak[sem == IGNORE_INDEX] == UNLABELLED)
    # The whole 3x3 squares are covered by radius-6 disks.
    assert np.all(weak[6:9, 1:4] == 1)


def test_deterministic_given_seed():
    rng = np.random.default_rng(5)
    sem = rng.integers(0, 3, size=(40, 40)).astype(np.uint8)
    a = synthesize_points(sem, interior_ratio=0.5, seed=1)
    b = synthesize_points(sem, interior_ratio=0.5, seed=1)
    np.testing.assert_array_equal(a, b)
    assert (
        synthesize_scribbles(sem, seed=3).tobytes()
        == synthesize_scribbles(sem, seed=3).tobytes()
    )


def test_scribble_length_ratio():
    sem = np.zeros((9, 31), np.uint8)
    sem[3:6, 2:29] = 1  # a long bar: its skeleton is a horizontal line
    full = synthesize_scribbles(sem, radius=0, length_ratio=1.0)
    half = synthesize_scribbles(sem, radius=0, length_ratio=0.5)
    point = synthesize_scribbles(sem, radius=0, length_ratio=0.0)
    n_full, n_half = (full == 1).sum(), (half == 1).sum()
    assert n_full >= 20  # most of the 27-pixel bar's medial line
    assert abs(n_half - n_full / 2) <= 0.5
    assert (point == 1).sum() == 1
    # Shorter scribbles are subsets of longer ones, centred on the bar.
    assert np.all(full[half == 1] == 1) and np.all(half[point == 1] == 1)
    assert (np.nonzero(full == 1)[0] == 4).mean() > 0.9  # the medial row
    with pytest.raises(ValueError, match='length_ratio'):
        synthesize_scribbles(sem, length_ratio=1.5)


def test_boxes_hand_computed():
    sem = _scene()
    boxes, weak = synthesize_boxes(sem)
    assert boxes == [(1, 1, 6, 3, 8), (1, 8, 6, 10, 8), (2, 1, 1, 6, 4)]
    expected = np.zeros(sem.shape, np.uint8)
    expected[1:5, 1:7] = UNLABELLED
    expected[6:9, 1:4] = UNLABELLED
    expected[6:9, 8:11] = UNLABELLED
    np.testing.assert_array_equal(weak, expected)


def test_empty_image_gives_no_weak_labels():
    sem = np.full((5, 5), IGNORE_INDEX, np.uint8)
    assert np.all(synthesize_points(sem) == UNLABELLED)
    assert np.all(synthesize_scribbles(sem) == UNLABELLED)
    boxes, weak = synthesize_boxes(sem)
    assert boxes == [] and np.all(weak == 0)
    with pytest.raises(ValueError, match='2-D'):
        synthesize_points(np.zeros((2, 2, 3), np.uint8))


def test_synthesize_weak_labels_tags_per_kind():
    sem = _scene()
    points = synthesize_weak_labels('points', sem, num_classes=3)
    assert points.tags == [0, 1, 2] and points.boxes == []
    # A 10x12 image gets the smallest scaled radius, 1.
    np.testing.assert_array_equal(
        points.label, synthesize_points(sem, radius=1)
    )
    boxes = synthesize_weak_labels('boxes', sem, num_classes=3)
    assert boxes.tags == [0, 1, 2] and len(boxes.boxes) == 3
    tags = synthesize_weak_labels('tags', sem, num_classes=2)
    assert tags.tags == [0, 1] and np.all(tags.label == UNLABELLED)
    # A box covering the whole image leaves no background tag.
    full = np.ones((4, 4), np.uint8)
    assert synthesize_weak_labels('boxes', full).tags == [1]
    with pytest.raises(ValueError, match='kind must be one of'):
        synthesize_weak_labels('polygons', sem)


def test_image_seed_depends_on_name_and_seed_only():
    assert image_seed(0, 'a') == image_seed(0, 'a')
    assert image_seed(0, 'a') != image_seed(0, 'b')
    assert image_seed(1, 'a') != image_seed(0, 'a')


def test_scaled_radius():
    assert VOC_REFERENCE_SHAPE == (375, 500)
    # VOC size (either orientation) keeps the paper's 6 and 3.
    for shape in ((375, 500), (500, 375), (375, 500, 3)):
        assert scaled_radius('points', shape) == 6
        assert scaled_radius('scribbles', shape) == 3
    # 128x128: 6 * 0.2956 = 1.77 -> 2 and 3 * 0.2956 = 0.89 -> 1.
    assert scaled_radius('points', (128, 128)) == 2
    assert scaled_radius('scribbles', (128, 128)) == 1
    # Twice VOC's side: twice the radius; tiny images: at least 1.
    assert scaled_radius('points', (750, 1000)) == 12
    assert scaled_radius('scribbles', (750, 1000)) == 6
    assert scaled_radius('points', (10, 12)) == 1
    with pytest.raises(ValueError, match='to have a dilation radius'):
        scaled_radius('boxes', (10, 10))


def test_synthesize_weak_labels_scales_radius_unless_given():
    sem = np.zeros((128, 128), np.uint8)
    sem[20:100, 30:110] = 3
    sem[105:125, 5:25] = 1
    for kind, synth, scaled in (
        ('points', synthesize_points, 2),
        ('scribbles', synthesize_scribbles, 1),
    ):
        ann = synthesize_weak_labels(kind, sem, seed=4)
        np.testing.assert_array_equal(
            ann.label, synth(sem, radius=scaled, seed=4)
        )
        # An explicit radius is absolute pixels, as before.
        ann = synthesize_weak_labels(kind, sem, radius=6, seed=4)
        np.testing.assert_array_equal(ann.label, synth(sem, radius=6, seed=4))
    # Point of the 80x80 square: a disk of radius 2 is 13 pixels.
    ann = synthesize_weak_labels('points', sem)
    assert (ann.label == 3).sum() == 13
    with pytest.raises(ValueError, match='radius must be an integer >= 0'):
        synthesize_weak_labels('points', sem, radius=-1)


def test_synthesize_weak_labels_box_label_modes():
    sem = _scene()
    boxes, unlabelled = synthesize_boxes(sem)
    ann = synthesize_weak_labels('boxes', sem, num_classes=3)
    np.testing.assert_array_equal(ann.label, unlabelled)
    filled = synthesize_weak_labels(
        'boxes', sem, num_classes=3, box_labels='filled'
    )
    np.testing.assert_array_equal(
        filled.label, filled_box_labels(sem.shape, boxes)
    )
    assert filled.label[1, 1] == 2 and filled.label[7, 2] == 1
    assert filled.label[0, 0] == 0
    prior = synthesize_weak_labels(
        'boxes',
        sem,
        num_classes=3,
        box_labels='prior',
        box_core='box',
        box_core_ratio=0.5,
    )
    np.testing.assert_array_equal(
        prior.label, box_prior_labels(sem.shape, boxes, 'box', 0.5)
    )
    # Every mode: same boxes and tags.
    for other in (filled, prior):
        assert other.boxes == ann.boxes == boxes
        assert other.tags == ann.tags == [0, 1, 2]
    with pytest.raises(ValueError, match='box_labels must be one of'):
        synthesize_weak_labels('boxes', sem, box_labels='grabcut')
    with pytest.raises(ValueError, match="apply to kind 'boxes' only"):
        synthesize_weak_labels('points', sem, box_labels='filled')
