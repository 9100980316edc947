# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The CAM inference scales of a CAM config."""

import pytest
from mmengine.config import Config

from mmseg_spml.apis import IRN_CAM_SCALES, cam_scales_of


def test_cam_scales_default_to_irn_and_follow_the_config():
    assert (
        cam_scales_of(Config(dict()))
        == IRN_CAM_SCALES
        == (
            1.0,
            0.5,
            1.5,
            2.0,
        )
    )
    assert cam_scales_of(Config(dict(cam_scales=[2, 2.5]))) == (2.0, 2.5)


@pytest.mark.parametrize(
    'scales, match',
    [
        ([], 'non-empty list'),
        (2.0, 'non-empty list'),
        ([1.0, 0], 'must be positive, got 0'),
        ([1.0, -1.0], 'must be positive'),
        (['2'], "must hold numbers, got '2'"),
        ([True], 'must hold numbers'),
    ],
)
def test_cam_scales_errors(scales, match):
    with pytest.raises(ValueError, match=match):
        cam_scales_of(Config(dict(cam_scales=scales)))
