# Copyright (c) mmseg-spml contributors. All rights reserved.
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmseg_spml.datasets import (
    DEMO_CLASSES,
    DemoSceneConfig,
    default_demo_root,
    ensure_demo_scenes,
    render_scene,
    write_demo_scenes,
)

SMALL = DemoSceneConfig(num_train=4, num_val=2, size=48, seed=3)


def test_render_is_deterministic_and_index_dependent():
    img_a, sem_a, inst_a = render_scene(SMALL, 1)
    img_b, sem_b, inst_b = render_scene(SMALL, 1)
    np.testing.assert_array_equal(img_a, img_b)
    np.testing.assert_array_equal(sem_a, sem_b)
    np.testing.assert_array_equal(inst_a, inst_b)
    img_c, _, _ = render_scene(SMALL, 2)
    assert not np.array_equal(img_a, img_c)
    other_seed = DemoSceneConfig(num_train=4, num_val=2, size=48, seed=4)
    assert not np.array_equal(img_a, render_scene(other_seed, 1)[0])


def test_render_shapes_and_label_values():
    cfg = DemoSceneConfig(size=64)
    seen = set()
    for index in range(40):
        img, sem, inst = render_scene(cfg, index)
        assert img.shape == (64, 64, 3) and img.dtype == np.uint8
        assert sem.shape == inst.shape == (64, 64)
        values = set(np.unique(sem).tolist())
        assert values <= set(range(len(DEMO_CLASSES))) | {255}
        assert values & set(range(1, len(DEMO_CLASSES))), 'no object drawn'
        # Class and instance maps agree on what is object, void, background.
        np.testing.assert_array_equal(sem == 0, inst == 0)
        np.testing.assert_array_equal(sem == 255, inst == 255)
        seen |= values
    # Every class appears somewhere in 40 images.
    assert set(range(len(DEMO_CLASSES))) <= seen


def test_void_border_can_be_disabled():
    cfg = DemoSceneConfig(size=64, void_border=0)
    for index in range(5):
        _, sem, _ = render_scene(cfg, index)
        assert 255 not in sem


def test_colour_alone_does_not_give_the_class():
    """Mean object colours of two classes overlap: no colour threshold
    separates them."""
    cfg = DemoSceneConfig(size=64, void_border=0)
    colours = {1: [], 2: []}
    for index in range(80):
        img, sem, _ = render_scene(cfg, index)
        for label in colours:
            if (sem == label).sum() > 50:
                colours[label].append(img[sem == label].mean(0))
    a, b = (np.array(colours[k]) for k in (1, 2))
    assert len(a) > 5 and len(b) > 5
    # Per channel, the ranges of the two classes overlap substantially.
    for ch in range(3):
        overlap = min(a[:, ch].max(), b[:, ch].max()) - max(
            a[:, ch].min(), b[:, ch].min()
        )
        assert overlap > 50


@pytest.mark.parametrize(
    'kwargs, field',
    [
        (dict(num_train=0), 'num_train'),
        (dict(size=8), 'size'),
        (dict(max_objects=0), 'max_objects'),
        (dict(void_border=-1), 'void_border'),
    ],
)
def test_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        DemoSceneConfig(**kwargs)


def test_write_voc_layout(tmp_path):
    root = str(tmp_path / 'demo')
    write_demo_scenes(root, SMALL)
    train = open(osp.join(root, 'ImageSets/Segmentation/train.txt')).read()
    val = open(osp.join(root, 'ImageSets/Segmentation/val.txt')).read()
    assert train.split() == ['000000', '000001', '000002', '000003']
    assert val.split() == ['000004', '000005']
    for name in train.split() + val.split():
        assert osp.isfile(osp.join(root, 'JPEGImages', name + '.jpg'))
        png = Image.open(osp.join(root, 'SegmentationClass', name + '.png'))
        assert png.mode == 'P' and png.size == (48, 48)
        _, sem, _ = render_scene(SMALL, int(name))
        np.testing.assert_array_equal(np.array(png), sem)
        assert osp.isfile(osp.join(root, 'SegmentationObject', name + '.png'))
    meta = json.load(open(osp.join(root, 'meta.json')))
    assert meta['classes'] == list(DEMO_CLASSES) and meta['seed'] == 3
    # Nothing but the finished folder is left behind.
    assert os.listdir(tmp_path) == ['demo']


def test_ensure_generates_once_and_checks_parameters(tmp_path):
    root = str(tmp_path / 'demo')
    assert ensure_demo_scenes(root, SMALL) == root
    stamp = os.stat(osp.join(root, 'meta.json')).st_mtime_ns
    ensure_demo_scenes(root, SMALL)
    assert os.stat(osp.join(root, 'meta.json')).st_mtime_ns == stamp
    other = DemoSceneConfig(num_train=5, num_val=2, size=48, seed=3)
    with pytest.raises(ValueError, match='meta.json was generated with'):
        ensure_demo_scenes(root, other)


def test_ensure_rejects_foreign_folder(tmp_path):
    with pytest.raises(ValueError, match='no meta.json'):
        ensure_demo_scenes(str(tmp_path), SMALL)


def test_default_root_follows_env_and_parameters(monkeypatch, tmp_path):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path))
    root = default_demo_root(SMALL)
    assert osp.dirname(root) == str(tmp_path)
    assert root != default_demo_root(DemoSceneConfig())
