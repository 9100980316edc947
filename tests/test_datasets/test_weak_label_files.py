# Copyright (c) mmseg-spml contributors. All rights reserved.
"""One image's weak label files (the library under make_weak_labels)."""

import numpy as np
import pytest
from PIL import Image

from mmseg_spml.datasets.weak_label_files import write_weak_label_file
from mmseg_spml.label_encoding import UNLABELLED


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


def test_boxes_tags_and_an_instance_map_of_another_size(tmp_path):
    semantic = np.zeros((8, 8), np.uint8)
    semantic[2:5, 3:7] = 4
    _save(tmp_path / 'seg' / 'a.png', semantic)
    name, tags, boxes = write_weak_label_file(
        'a', 'boxes', str(tmp_path / 'seg'), str(tmp_path / 'out')
    )
    assert (name, tags, boxes) == ('a', [0, 4], [[4, 3, 2, 6, 4]])
    label = np.array(Image.open(tmp_path / 'out' / 'a.png'))
    assert (label[2:5, 3:7] == UNLABELLED).all() and label.sum() == 12 * 254
    # Tags write no label map.
    _, tags, boxes = write_weak_label_file(
        'a', 'tags', str(tmp_path / 'seg'), str(tmp_path / 'tags')
    )
    assert tags == [0, 4] and boxes == []
    assert not (tmp_path / 'tags').exists()
    _save(tmp_path / 'inst' / 'a.png', np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r'inst/a.png has shape \(4, 4\)'):
        write_weak_label_file(
            'a',
            'points',
            str(tmp_path / 'seg'),
            str(tmp_path / 'out'),
            inst_dir=str(tmp_path / 'inst'),
        )
