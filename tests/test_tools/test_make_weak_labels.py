# Copyright (c) mmseg-spml contributors. All rights reserved.
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from mmseg_spml.datasets import DemoSceneConfig, write_demo_scenes
from mmseg_spml.datasets.box_labels import box_prior_labels, filled_box_labels
from mmseg_spml.datasets.weak_synthesis import (
    image_seed,
    synthesize_boxes,
    synthesize_points,
)
from mmseg_spml.label_encoding import UNLABELLED
from tests.helpers.tools import load_tool, python_tool, run

make_weak_labels = load_tool('make_weak_labels.py')


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('weak') / 'demo')
    write_demo_scenes(root, DemoSceneConfig(num_train=6, num_val=2, size=48))
    return root


def _read(path):
    return np.array(Image.open(path))


def _make(root, kind, out, *extra):
    make_weak_labels.main([root, '--type', kind, '--out', str(out), *extra])


@pytest.mark.parametrize('kind', ['points', 'scribbles'])
def test_label_maps_independent_of_nproc(demo_root, tmp_path, kind):
    one, two = tmp_path / 'one', tmp_path / 'two'
    _make(demo_root, kind, one)
    _make(demo_root, kind, two, '--nproc', '2')
    names = sorted(os.listdir(one))
    assert names == [f'{i:06d}.png' for i in range(6)] + ['tags.json']
    assert json.load(open(one / 'tags.json')) == json.load(
        open(two / 'tags.json')
    )
    for name in names[:-1]:
        a, b = _read(one / name), _read(two / name)
        np.testing.assert_array_equal(a, b)
        sem = _read(osp.join(demo_root, 'SegmentationClass', name))
        labelled = a != UNLABELLED
        assert labelled.any()
        np.testing.assert_array_equal(a[labelled], sem[labelled])


def test_boxes_and_tags(demo_root, tmp_path):
    _make(demo_root, 'boxes', tmp_path / 'boxes')
    boxes = json.load(open(tmp_path / 'boxes' / 'boxes.json'))
    sem = _read(osp.join(demo_root, 'SegmentationClass', '000003.png'))
    inst = _read(osp.join(demo_root, 'SegmentationObject', '000003.png'))
    expected, weak = synthesize_boxes(sem, inst)
    assert boxes['000003'] == [list(b) for b in expected]
    box_tags = json.load(open(tmp_path / 'boxes' / 'tags.json'))['000003']
    assert box_tags == sorted({0} | {b[0] for b in expected})
    np.testing.assert_array_equal(
        _read(tmp_path / 'boxes' / '000003.png'), weak
    )

    _make(demo_root, 'tags', tmp_path / 'tags', '--num-classes', '7')
    tags = json.load(open(tmp_path / 'tags' / 'tags.json'))
    assert tags['000003'] == sorted(set(np.unique(sem).tolist()) - {255})
    assert os.listdir(tmp_path / 'tags') == ['tags.json']


def test_box_label_modes_write_boxes_json_then_tags(demo_root, tmp_path):
    sem = _read(osp.join(demo_root, 'SegmentationClass', '000003.png'))
    inst = _read(osp.join(demo_root, 'SegmentationObject', '000003.png'))
    expected, _ = synthesize_boxes(sem, inst)
    for mode, extra, label in (
        ('filled', [], filled_box_labels(sem.shape, expected)),
        (
            'prior',
            ['--box-core', 'box', '--box-core-ratio', '0.6'],
            box_prior_labels(sem.shape, expected, 'box', 0.6),
        ),
    ):
        out = tmp_path / mode
        _make(demo_root, 'boxes', out, '--box-labels', mode, *extra)
        np.testing.assert_array_equal(_read(out / '000003.png'), label)
        boxes = json.load(open(out / 'boxes.json'))
        assert boxes['000003'] == [list(b) for b in expected]
        # tags.json is written last (it marks the folder complete).
        assert os.stat(out / 'tags.json').st_mtime_ns >= (
            os.stat(out / 'boxes.json').st_mtime_ns
        )
    assert (_read(tmp_path / 'filled' / '000003.png') != UNLABELLED).all()
    with pytest.raises(SystemExit):
        _make(demo_root, 'points', tmp_path / 'o', '--box-labels', 'filled')
    with pytest.raises(SystemExit, match='core_ratio must be in'):
        _make(
            demo_root, 'boxes', tmp_path / 'o', '--box-labels', 'prior',
            '--box-core-ratio', '2',
        )  # fmt: skip


def test_radius_scaled_by_default_absolute_when_given(demo_root, tmp_path):
    sem = _read(osp.join(demo_root, 'SegmentationClass', '000002.png'))
    inst = _read(osp.join(demo_root, 'SegmentationObject', '000002.png'))
    # 48x48 images: 6 * sqrt(48 * 48 / (375 * 500)) = 0.66 -> 1.
    for extra, radius in (([], 1), (['--radius', '5'], 5)):
        out = tmp_path / f'r{radius}'
        _make(demo_root, 'points', out, *extra)
        np.testing.assert_array_equal(
            _read(out / '000002.png'),
            synthesize_points(
                sem, inst, radius=radius, seed=image_seed(0, '000002')
            ),
        )


def test_clear_errors(demo_root, tmp_path):
    with pytest.raises(SystemExit, match='split file .*missing.txt'):
        _make(demo_root, 'points', tmp_path / 'o', '--split', 'missing.txt')
    broken = str(tmp_path / 'broken')
    shutil.copytree(demo_root, broken)
    os.remove(osp.join(broken, 'SegmentationClass', '000002.png'))
    with pytest.raises(SystemExit, match='000002.png does not exist'):
        _make(broken, 'points', tmp_path / 'o')
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(
        osp.join(broken, 'SegmentationObject', '000001.png')
    )
    shutil.copy(
        osp.join(demo_root, 'SegmentationClass', '000002.png'),
        osp.join(broken, 'SegmentationClass', '000002.png'),
    )
    with pytest.raises(
        SystemExit, match=r'SegmentationObject/000001.png has shape'
    ):
        _make(broken, 'points', tmp_path / 'o')


def test_command_line(demo_root, tmp_path):
    """The script as a user runs it: --help, then a run."""
    proc = run(python_tool('make_weak_labels.py', '--help'), str(tmp_path))
    assert '--length-ratio' in proc.stdout and 'Examples:' in proc.stdout
    assert '--box-labels' in proc.stdout and 'scaled' in proc.stdout
    proc = run(
        python_tool(
            'make_weak_labels.py',
            demo_root,
            '--type',
            'points',
            '--out',
            str(tmp_path / 'cli'),
        ),
        str(tmp_path),
    )
    assert 'points for 6 images written' in proc.stdout
