# Copyright (c) mmseg-spml contributors. All rights reserved.
"""One conversion of samples' image tags to multi-hot rows, shared by the
SPML head, the CAM classifier and the pseudo-label tool."""

import pytest
import torch
from mmseg.structures import SegDataSample

from mmseg_spml.models.utils import tags_to_multi_hot


def _samples(*tags):
    out = []
    for t in tags:
        meta = {} if t is None else dict(img_tags=list(t))
        out.append(SegDataSample(metainfo=dict(img_path=f'{t}.jpg', **meta)))
    return out


def test_hand_computed_rows():
    rows = tags_to_multi_hot(_samples((0, 2), (3,), ()), 4)
    expected = torch.tensor(
        [[1, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=torch.bool
    )
    assert torch.equal(rows, expected)


def test_missing_tags_are_all_classes_or_an_error():
    assert tags_to_multi_hot(_samples(None), 3).all()
    with pytest.raises(KeyError, match='SPML needs image tags.*None.jpg'):
        tags_to_multi_hot(_samples((1,), None), 3, required_by='SPML')


def test_tags_outside_the_classes():
    with pytest.raises(ValueError, match=r'img_tags \[5\] .*outside the 4'):
        tags_to_multi_hot(_samples((0, 5)), 4)
