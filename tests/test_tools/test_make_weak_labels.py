# Copyright (c) mmseg-spml contributors. All rights reserved.
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from mmseg_spml.datasets import DemoSceneConfig, write_demo_scenes
from mmseg_spml.datasets.constants import UNLABELLED
from mmseg_spml.datasets.weak_synthesis import synthesize_boxes
from tests.helpers.tools import python_tool, run


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('weak') / 'demo')
    write_demo_scenes(root, DemoSceneConfig(num_train=6, num_val=2, size=48))
    return root


def _read(path):
    return np.array(Image.open(path))


@pytest.mark.parametrize('kind', ['points', 'scribbles'])
def test_label_maps_independent_of_nproc(demo_root, tmp_path, kind):
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    run(
        python_tool(
            'make_weak_labels.py', demo_root, '--type', kind, '--out', one
        ),
        str(tmp_path),
    )
    run(
        python_tool(
            'make_weak_labels.py',
            demo_root,
            '--type',
            kind,
            '--out',
            two,
            '--nproc',
            '2',
        ),
        str(tmp_path),
    )
    names = sorted(os.listdir(one))
    assert names == [f'{i:06d}.png' for i in range(6)] + ['tags.json']
    assert json.load(open(osp.join(one, 'tags.json'))) == json.load(
        open(osp.join(two, 'tags.json'))
    )
    names.remove('tags.json')
    for name in names:
        a, b = _read(osp.join(one, name)), _read(osp.join(two, name))
        np.testing.assert_array_equal(a, b)
        sem = _read(osp.join(demo_root, 'SegmentationClass', name))
        labelled = a != UNLABELLED
        assert labelled.any()
        np.testing.assert_array_equal(a[labelled], sem[labelled])


def test_boxes_and_tags(demo_root, tmp_path):
    out = str(tmp_path / 'boxes')
    run(
        python_tool(
            'make_weak_labels.py', demo_root, '--type', 'boxes', '--out', out
        ),
        str(tmp_path),
    )
    boxes = json.load(open(osp.join(out, 'boxes.json')))
    sem = _read(osp.join(demo_root, 'SegmentationClass', '000003.png'))
    inst = _read(osp.join(demo_root, 'SegmentationObject', '000003.png'))
    expected, weak = synthesize_boxes(sem, inst)
    assert boxes['000003'] == [list(b) for b in expected]
    box_tags = json.load(open(osp.join(out, 'tags.json')))['000003']
    assert box_tags == sorted({0} | {b[0] for b in expected})
    np.testing.assert_array_equal(_read(osp.join(out, '000003.png')), weak)

    out = str(tmp_path / 'tags')
    run(
        python_tool(
            'make_weak_labels.py',
            demo_root,
            '--type',
            'tags',
            '--out',
            out,
            '--num-classes',
            '7',
        ),
        str(tmp_path),
    )
    tags = json.load(open(osp.join(out, 'tags.json')))
    assert tags['000003'] == sorted(set(np.unique(sem).tolist()) - {255})


def test_clear_errors(demo_root, tmp_path):
    proc = run(
        python_tool(
            'make_weak_labels.py',
            demo_root,
            '--type',
            'points',
            '--out',
            str(tmp_path / 'o'),
            '--split',
            'missing.txt',
        ),
        str(tmp_path),
        expect_rc=1,
    )
    assert 'split file' in proc.stdout and 'missing.txt' in proc.stdout
    broken = str(tmp_path / 'broken')
    shutil.copytree(demo_root, broken)
    os.remove(osp.join(broken, 'SegmentationClass', '000002.png'))
    proc = run(
        python_tool(
            'make_weak_labels.py',
            broken,
            '--type',
            'points',
            '--out',
            str(tmp_path / 'o'),
        ),
        str(tmp_path),
        expect_rc=1,
    )
    assert '000002.png does not exist' in proc.stdout
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(
        osp.join(broken, 'SegmentationObject', '000001.png')
    )
    proc = run(
        python_tool(
            'make_weak_labels.py',
            broken,
            '--type',
            'points',
            '--out',
            str(tmp_path / 'o'),
            '--split',
            'ImageSets/Segmentation/val.txt',
        ),
        str(tmp_path),
    )
    assert proc.returncode == 0  # val images are intact
    shutil.copy(
        osp.join(demo_root, 'SegmentationClass', '000002.png'),
        osp.join(broken, 'SegmentationClass', '000002.png'),
    )
    proc = run(
        python_tool(
            'make_weak_labels.py',
            broken,
            '--type',
            'points',
            '--out',
            str(tmp_path / 'o'),
        ),
        str(tmp_path),
        expect_rc=1,
    )
    assert 'SegmentationObject/000001.png has shape (5, 5)' in proc.stdout
