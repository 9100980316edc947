# Copyright (c) mmseg-spml contributors. All rights reserved.
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets import (
    DEMO_CLASSES,
    DemoSceneConfig,
    box_prior_labels,
    demo_scenes,
    ensure_demo_weak_labels,
    image_seed,
    render_scene,
    synthesize_boxes,
    synthesize_points,
    write_demo_scenes,
)

GEN = dict(num_train=4, num_val=2, size=40, seed=1)
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]


def _png(path):
    return np.array(Image.open(path))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmseg')


def test_builds_from_registry_and_generates(tmp_path, monkeypatch):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path))
    train = DATASETS.build(
        dict(type='DemoScenesDataset', generator=GEN, pipeline=PIPELINE)
    )
    val = DATASETS.build(
        dict(
            type='DemoScenesDataset',
            generator=GEN,
            ann_file='ImageSets/Segmentation/val.txt',
            pipeline=PIPELINE,
        )
    )
    assert len(train) == 4 and len(val) == 2
    assert train.metainfo['classes'] == DEMO_CLASSES
    assert osp.dirname(train.data_root) == str(tmp_path)

    sample = val[1]
    assert tuple(sample['inputs'].shape) == (3, 40, 40)
    label = sample['data_samples'].gt_sem_seg.data.numpy()[0]
    _, expected, _ = render_scene(DemoSceneConfig(**GEN), 5)
    np.testing.assert_array_equal(label, expected)


def test_explicit_data_root_without_generation_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent does not exist'):
        DATASETS.build(
            dict(
                type='DemoScenesDataset',
                data_root=str(tmp_path / 'absent'),
                generate=False,
                pipeline=PIPELINE,
            )
        )


def test_weak_cache_keeps_boxes_and_options(tmp_path, monkeypatch):
    root = str(tmp_path / 'demo')
    write_demo_scenes(root, DemoSceneConfig(**GEN))
    written = []
    save_json = demo_scenes.save_json

    def recording_save_json(path, obj):
        written.append(osp.basename(path))
        save_json(path, obj)

    monkeypatch.setattr(demo_scenes, 'save_json', recording_save_json)
    name = ensure_demo_weak_labels(
        root, dict(type='boxes', box_labels='prior', box_core='box')
    )
    # tags.json last: it marks the folder complete.
    assert written == ['boxes.json', 'tags.json']
    folder = osp.join(root, name)
    boxes = json.load(open(osp.join(folder, 'boxes.json')))
    tags = json.load(open(osp.join(folder, 'tags.json')))
    stems = [f'{i:06d}' for i in range(6)]  # train and val
    assert sorted(boxes) == sorted(tags) == stems
    for stem in stems:
        sem = _png(osp.join(root, 'SegmentationClass', stem + '.png'))
        inst = _png(osp.join(root, 'SegmentationObject', stem + '.png'))
        expected, _ = synthesize_boxes(sem, inst)
        assert boxes[stem] == [list(b) for b in expected]
        np.testing.assert_array_equal(
            _png(osp.join(folder, stem + '.png')),
            box_prior_labels(sem.shape, expected, core='box'),
        )
    # Another box mode is another folder; the cache is reused as is.
    other = ensure_demo_weak_labels(root, dict(type='boxes'))
    assert other != name
    assert ensure_demo_weak_labels(root, dict(type='boxes')) == other
    assert _png(osp.join(root, other, '000000.png')).max() == 254
    # Points get the radius scaled to the 40x40 images (1), or the one
    # given; other kinds write no boxes.json.
    points = ensure_demo_weak_labels(root, dict(type='points'))
    big = ensure_demo_weak_labels(root, dict(type='points', radius=4))
    assert not osp.exists(osp.join(root, points, 'boxes.json'))
    sem = _png(osp.join(root, 'SegmentationClass', '000001.png'))
    inst = _png(osp.join(root, 'SegmentationObject', '000001.png'))
    for folder, radius in ((points, 1), (big, 4)):
        np.testing.assert_array_equal(
            _png(osp.join(root, folder, '000001.png')),
            synthesize_points(
                sem, inst, radius=radius, seed=image_seed(0, '000001')
            ),
        )
    # A new cache version never reuses folders of older code.
    monkeypatch.setattr(demo_scenes, 'WEAK_CACHE_VERSION', 1)
    old = ensure_demo_weak_labels(root, dict(type='points'))
    assert old != points
    with pytest.raises(ValueError, match='must name the annotation type'):
        ensure_demo_weak_labels(root, dict(radius=2))


def test_cached_superpixels_equal_the_on_the_fly_ones(tmp_path, monkeypatch):
    """superpixels=... computes each image's regions once, next to the
    data, as ComputeSuperpixels would on the loaded image."""
    from mmseg.registry import TRANSFORMS

    from mmseg_spml.datasets import ensure_demo_superpixels

    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path))
    init_default_scope('mmseg')
    params = dict(method='felzenszwalb', scale=50)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadSuperpixels'),
    ]
    dataset = DATASETS.build(
        dict(
            type='DemoScenesDataset',
            generator=GEN,
            superpixels=params,
            pipeline=pipeline,
        )
    )
    compute = TRANSFORMS.build(dict(type='ComputeSuperpixels', **params))
    for i in range(len(dataset)):
        out = dataset[i]
        expected = compute(dict(img=out['img']))['gt_superpixel']
        np.testing.assert_array_equal(out['gt_superpixel'], expected)
    root = dataset.data_root
    name = ensure_demo_superpixels(root, params)
    assert json.loads(
        (tmp_path / osp.basename(root) / name / 'params.json').read_text()
    ) == dict(method='felzenszwalb', scale=50, sigma=0.8, min_size=20)
    # Other parameters, another folder; unknown methods are errors.
    assert ensure_demo_superpixels(root, dict(method='slic')) != name
    with pytest.raises(ValueError, match='method must be one of'):
        ensure_demo_superpixels(root, dict(method='ucm'))


def test_partial_data_prefix_keeps_the_default_folders(tmp_path, monkeypatch):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path))
    masks = tmp_path / 'masks'
    dataset = DATASETS.build(
        dict(
            type='DemoScenesDataset',
            generator=GEN,
            data_prefix=dict(seg_map_path=str(masks)),
            pipeline=[],
            lazy_init=True,
        )
    )
    assert dataset.data_prefix['seg_map_path'] == str(masks)
    assert dataset.data_prefix['img_path'].endswith('JPEGImages')
