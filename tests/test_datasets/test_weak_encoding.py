# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Weak maps whose files encode "unlabelled" as 255 (rloss / ScribbleSup
exports) are decoded, and read with the wrong encoding they are reported."""

from unittest import mock

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS
from PIL import Image

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets import IGNORE_INDEX, UNLABELLED
from mmseg_spml.datasets.weak_encoding import (
    check_encoding,
    decode_weak_map,
    suspicious_encoding,
)

LOADING = 'mmseg_spml.datasets.transforms.loading'


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmseg')


@pytest.fixture
def rloss_map(tmp_path):
    """A 32x64 scribble PNG: two scribbles (class 3, background), 255
    everywhere else."""
    raw = np.full((32, 64), 255, np.uint8)
    raw[4:7, 5:40] = 3
    raw[20:23, 10:50] = 0
    path = str(tmp_path / 'rloss.png')
    Image.fromarray(raw).save(path)
    return raw, path


def _load(path, **kwargs):
    load = TRANSFORMS.build(dict(type='LoadWeakAnnotations', **kwargs))
    sample = dict(
        img=np.zeros((32, 64, 3), np.uint8), weak_map_path=path, num_classes=7
    )
    return load(sample)


def test_255_as_unlabelled_reaches_every_relation(rloss_map):
    raw, path = rloss_map
    out = _load(path, unlabelled_value=255, void_value=None)
    weak = out['gt_seg_map']
    # Every pixel is a real pixel for SPML: none is void.
    assert (weak != IGNORE_INDEX).all()
    assert (weak == UNLABELLED).sum() == (raw == 255).sum()
    np.testing.assert_array_equal(weak[raw < 7], raw[raw < 7])
    assert out['img_tags'] == [0, 3]


def test_default_encoding_warns_once_naming_the_file(rloss_map, tmp_path):
    raw, path = rloss_map
    second = str(tmp_path / 'second.png')
    Image.fromarray(raw).save(second)
    load = TRANSFORMS.build(dict(type='LoadWeakAnnotations'))
    img = np.zeros((32, 64, 3), np.uint8)
    with mock.patch(f'{LOADING}.print_log') as log:
        for p in (path, second):
            out = load(dict(img=img, weak_map_path=p, num_classes=7))
    # Read as void, as the file says under the default encoding...
    assert (out['gt_seg_map'] == IGNORE_INDEX).sum() == (raw == 255).sum()
    # ... but said so, once, with the file and the fix.
    assert log.call_count == 1
    message = log.call_args.args[0]
    assert message.startswith(path) and 'unlabelled_value=255' in message


def test_maps_with_254_are_not_suspected():
    raw = np.full((8, 8), IGNORE_INDEX, np.uint8)
    assert suspicious_encoding(raw, UNLABELLED, IGNORE_INDEX) is not None
    raw[0, 0] = UNLABELLED
    assert suspicious_encoding(raw, UNLABELLED, IGNORE_INDEX) is None
    raw[:] = 1
    raw[:3] = IGNORE_INDEX  # under half void: padding, not an encoding
    assert suspicious_encoding(raw, UNLABELLED, IGNORE_INDEX) is None


def test_custom_void_value_is_decoded_to_255():
    raw = np.array([[0, 1, 200, 201]], np.uint8)
    weak = decode_weak_map(
        raw, 'x.png', 7, unlabelled_value=200, void_value=201
    )
    np.testing.assert_array_equal(weak, [[0, 1, UNLABELLED, IGNORE_INDEX]])


def test_values_outside_the_encoding_name_file_and_encoding(rloss_map):
    _, path = rloss_map
    with pytest.raises(ValueError, match=r'rloss.png has labels \[255\]'):
        _load(path, void_value=None)
    with pytest.raises(
        ValueError, match='unlabelled_value=255, void_value=None'
    ):
        decode_weak_map(np.array([[9]], np.uint8), 'x.png', 7, 255, None)


@pytest.mark.parametrize(
    'unlabelled, void, num_classes, message',
    [
        (255, 255, 0, 'both 255'),
        (256, 255, 0, r'unlabelled_value must be an int in \[0, 255\]'),
        (5, 255, 7, 'unlabelled_value=5 is a class id'),
    ],
)
def test_bad_encodings(unlabelled, void, num_classes, message):
    with pytest.raises(ValueError, match=message):
        check_encoding(unlabelled, void, num_classes)
