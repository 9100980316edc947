# Copyright (c) mmseg-spml contributors. All rights reserved.
"""IRN's confidence band refined by a dense CRF."""

import pytest
import torch

from mmseg_spml.label_encoding import UNLABELLED
from mmseg_spml.pseudo_masks import band_labels, crf_band_labels
from tests.helpers.cam_scenes import spilling_cam_scene


@pytest.mark.parametrize('backend', ['torch', 'auto'])
def test_crf_band_follows_the_object_where_the_band_spills(backend):
    image, cam, keys, obj = spilling_cam_scene()
    plain = band_labels(cam, keys)
    assert (plain == 2).sum() == 144 and (plain == UNLABELLED).sum() == 52
    refined = crf_band_labels(cam, keys, image, backend=backend)
    assert torch.equal(refined, obj)


def test_crf_band_keeps_the_open_band_between_the_two_maps():
    # The background map (CAM >= 0.05) covers the whole image, so after the
    # CRF nothing is surely background: outside the object is unlabelled.
    image, cam, keys, obj = spilling_cam_scene()
    cam[0][cam[0] == 0] = 0.1
    refined = crf_band_labels(cam, keys, image)
    expected = torch.where(obj == 2, 2, UNLABELLED)
    assert torch.equal(refined, expected)


def test_crf_band_without_foreground_and_errors():
    image = torch.zeros(3, 4, 4)
    empty = torch.zeros(0, 4, 4)
    keys = torch.zeros(0, dtype=torch.long)
    assert torch.equal(
        crf_band_labels(empty, keys, image), band_labels(empty, keys)
    )
    with pytest.raises(ValueError, match=r'image must be \(3, H, W\)'):
        crf_band_labels(empty, keys, image[:, :3])
