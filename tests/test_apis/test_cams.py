# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The CAM inference views of a CAM config."""

import pytest
from mmengine.config import Config

from mmseg_spml.apis import IRN_CAM_SCALES, cam_test_cfg_of


def _cfg(**test_cfg):
    return Config(dict(model=dict(type='CAMClassifier', test_cfg=test_cfg)))


def test_cam_views_default_to_irn_and_follow_the_config():
    assert IRN_CAM_SCALES == (1.0, 0.5, 1.5, 2.0)
    irn = dict(scales=IRN_CAM_SCALES, flip=True)
    assert cam_test_cfg_of(Config(dict(model=dict()))) == irn
    assert cam_test_cfg_of(_cfg()) == irn
    assert cam_test_cfg_of(_cfg(scales=[2, 2.5])) == dict(
        scales=(2.0, 2.5), flip=True
    )
    assert cam_test_cfg_of(_cfg(flip=False)) == dict(
        scales=IRN_CAM_SCALES, flip=False
    )


@pytest.mark.parametrize(
    'test_cfg, match',
    [
        (dict(scales=[]), 'scales must be a non-empty list'),
        (dict(scales=2.0), 'scales must be a non-empty list'),
        (dict(scales=[1.0, 0]), 'scales must be positive, got 0'),
        (dict(scales=[1.0, -1.0]), 'scales must be positive'),
        (dict(scales=['2']), "scales must hold numbers, got '2'"),
        (dict(scales=[True]), 'scales must hold numbers'),
        (dict(flip=1), 'flip must be True or False, got 1'),
        (dict(mode='whole'), r"unknown keys \['mode'\]"),
    ],
)
def test_cam_views_errors(test_cfg, match):
    with pytest.raises(ValueError, match='CAMClassifier test_cfg'):
        cam_test_cfg_of(_cfg(**test_cfg))
    with pytest.raises(ValueError, match=match):
        cam_test_cfg_of(_cfg(**test_cfg))
