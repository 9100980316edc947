# Copyright (c) mmseg-spml contributors. All rights reserved.
import json
import os
import stat

import numpy as np
import pytest
from PIL import Image

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.utils.io import (
    atomic_file,
    image_names,
    label_palette,
    save_json,
    save_label_png,
)


def test_label_palette_marks_unknown_values():
    palette = label_palette([[1, 2, 3], [4, 5, 6]])
    assert len(palette) == 768
    assert palette[:6] == [1, 2, 3, 4, 5, 6]
    assert palette[3 * UNLABELLED : 3 * UNLABELLED + 3] == [255, 255, 255]
    assert palette[3 * IGNORE_INDEX :] == [224, 224, 192]


@pytest.mark.parametrize('palette', [None, label_palette([[9, 9, 9]])])
def test_save_label_png_roundtrip(tmp_path, palette):
    label = np.array([[0, 1], [UNLABELLED, IGNORE_INDEX]], np.uint8)
    path = tmp_path / 'sub' / 'a.png'
    save_label_png(str(path), label, palette)
    np.testing.assert_array_equal(np.array(Image.open(path)), label)
    assert os.listdir(tmp_path / 'sub') == ['a.png']  # no temp file left


def test_save_label_png_rejects_bad_array_and_keeps_old_file(tmp_path):
    path = tmp_path / 'a.png'
    save_label_png(str(path), np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match='a.png must be a uint8'):
        save_label_png(str(path), np.zeros((2, 2), np.int64))
    np.testing.assert_array_equal(np.array(Image.open(path)), 0)
    assert os.listdir(tmp_path) == ['a.png']


def test_save_json(tmp_path):
    path = tmp_path / 'x.json'
    save_json(str(path), {'b': [1, 2], 'a': 1})
    assert json.load(open(path)) == {'a': 1, 'b': [1, 2]}
    assert os.listdir(tmp_path) == ['x.json']


def test_atomic_directory(tmp_path):
    from mmseg_spml.utils.io import atomic_directory

    dest = tmp_path / 'out'
    with pytest.raises(RuntimeError):
        with atomic_directory(str(dest), 'done') as tmp:
            open(os.path.join(tmp, 'half'), 'w').close()
            raise RuntimeError('interrupted')
    assert os.listdir(tmp_path) == []  # nothing half-written is left
    with atomic_directory(str(dest), 'done') as tmp:
        open(os.path.join(tmp, 'done'), 'w').close()
    assert os.listdir(dest) == ['done']
    # A second writer that loses the race keeps the finished copy.
    with atomic_directory(str(dest), 'done') as tmp:
        open(os.path.join(tmp, 'other'), 'w').close()
    assert os.listdir(dest) == ['done'] and os.listdir(tmp_path) == ['out']


def test_atomic_file_permissions_and_failure(tmp_path):
    path = tmp_path / 'sub' / 'out.bin'
    umask = os.umask(0o022)
    try:
        with atomic_file(str(path)) as f:
            f.write(b'first')
    finally:
        os.umask(umask)
    assert path.read_bytes() == b'first'
    # Temporary files are private; the result is not (0o666 less umask).
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    with pytest.raises(RuntimeError, match='boom'):
        with atomic_file(str(path), 'w') as f:
            f.write('half')
            raise RuntimeError('boom')
    assert path.read_bytes() == b'first'
    assert os.listdir(path.parent) == ['out.bin']
    with pytest.raises(ValueError, match='mode'):
        with atomic_file(str(path), 'a'):
            pass


def test_image_names_from_a_split_or_a_folder(tmp_path):
    for name in ('b.npz', 'a.npz', 'c.png'):
        (tmp_path / name).write_bytes(b'')
    assert image_names(str(tmp_path), '.npz') == ['a', 'b']
    split = tmp_path / 'train.txt'
    split.write_text('c 1\n\nb\n')
    assert image_names(str(tmp_path), '.npz', str(split)) == ['c', 'b']
    with pytest.raises(FileNotFoundError, match='split file .*nope.txt'):
        image_names(str(tmp_path), '.npz', str(tmp_path / 'nope.txt'))
