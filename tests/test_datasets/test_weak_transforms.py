# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Weak-label dataset, transforms and the padding data preprocessor."""

import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import DATASETS, MODELS, TRANSFORMS
from mmseg.structures import SegDataSample
from PIL import Image

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets import (
    IGNORE_INDEX,
    SUPERPIXEL_PAD,
    UNLABELLED,
    DemoSceneConfig,
    write_demo_scenes,
)

GEN = dict(num_train=4, num_val=2, size=48, seed=2)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmseg')


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('weakds') / 'demo')
    write_demo_scenes(root, DemoSceneConfig(**GEN))
    return root


def _pipeline(crop=40):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadWeakAnnotations'),
        dict(type='ComputeSuperpixels', scale=50, min_size=5),
        dict(
            type='RandomResize',
            scale=(48, 48),
            ratio_range=(0.5, 2.0),
            keep_ratio=True,
        ),
        dict(type='RandomCrop', crop_size=(crop, crop)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='Pad', size=(crop, crop)),
        dict(type='PadExtraSegFields'),
        dict(type='PackWeakSegInputs'),
    ]


@pytest.mark.parametrize('kind', ['points', 'scribbles', 'boxes', 'tags'])
def test_demo_dataset_with_weak_labels(demo_root, kind):
    dataset = DATASETS.build(
        dict(
            type='DemoScenesDataset',
            data_root=demo_root,
            generator=GEN,
            weak=dict(type=kind),
            pipeline=_pipeline(),
        )
    )
    tags = json.load(
        open(
            osp.join(demo_root, dataset.data_prefix['weak_path'], 'tags.json')
        )
    )
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        stem = osp.splitext(osp.basename(sample.img_path))[0]
        assert sample.img_tags == tags[stem]
        weak = sample.gt_sem_seg.data
        sp = sample.gt_superpixel.data
        assert weak.shape == sp.shape == (1, 40, 40)
        values = set(weak.unique().tolist())
        assert values <= set(range(7)) | {UNLABELLED, IGNORE_INDEX}
        # Padding is void in the labels and -1 in the superpixels.
        np.testing.assert_array_equal(
            sp == SUPERPIXEL_PAD, weak == IGNORE_INDEX
        )
    if kind == 'tags':
        assert values <= {UNLABELLED, IGNORE_INDEX}


def test_geometric_transforms_keep_fields_aligned():
    """Image, weak labels and superpixels all encode the same 8x8 blocks;
    after resize, crop, flip and pad they must still agree."""
    np.random.seed(0)  # mmcv's random transforms draw from numpy's RNG
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 6, size=(8, 8))
    label = np.kron(blocks, np.ones((8, 8), int))  # (64, 64)
    colours = rng.integers(0, 255, size=(6, 3))
    results = dict(
        img=colours[label].astype(np.uint8),
        gt_seg_map=label.astype(np.uint8),
        gt_superpixel=(label * 1000).astype(np.int32),
        seg_fields=['gt_seg_map', 'gt_superpixel'],
        img_shape=(64, 64),
        ori_shape=(64, 64),
    )
    transforms = [
        TRANSFORMS.build(t)
        for t in [
            dict(
                type='RandomResize',
                scale=(64, 64),
                ratio_range=(0.7, 1.4),
                keep_ratio=True,
            ),
            dict(type='RandomCrop', crop_size=(56, 56)),
            dict(type='RandomFlip', prob=1.0),
            dict(type='Pad', size=(72, 72)),
            dict(type='PadExtraSegFields'),
        ]
    ]
    for t in transforms:
        results = t(results)
    img, seg, sp = (results[k] for k in ('img', 'gt_seg_map', 'gt_superpixel'))
    assert img.shape[:2] == seg.shape == sp.shape == (72, 72)
    inside = seg != IGNORE_INDEX
    np.testing.assert_array_equal(sp[inside], seg[inside].astype(int) * 1000)
    np.testing.assert_array_equal(sp[~inside], SUPERPIXEL_PAD)
    # Where the label is constant over a 5x5 window, the (bilinearly
    # resized) image shows that label's colour.
    checked = 0
    for y in range(2, 70):
        for x in range(2, 70):
            win = seg[y - 2 : y + 3, x - 2 : x + 3]
            if win.min() == win.max() != IGNORE_INDEX:
                assert (
                    np.abs(img[y, x].astype(int) - colours[seg[y, x]]).max()
                    <= 2
                )
                checked += 1
    assert checked > 300


def test_weak_map_errors_name_the_file(demo_root, tmp_path):
    weak = np.full((48, 48), UNLABELLED, np.uint8)
    img = np.zeros((48, 48, 3), np.uint8)
    load = TRANSFORMS.build(dict(type='LoadWeakAnnotations'))

    path = str(tmp_path / 'small.png')
    Image.fromarray(weak[:30]).save(path)
    with pytest.raises(
        ValueError,
        match=r'small.png has shape \(30, 48\) '
        r'but image x.jpg has \(48, 48\)',
    ):
        load(
            dict(img=img, img_path='x.jpg', weak_map_path=path, num_classes=7)
        )
    bad = weak.copy()
    bad[0, 0] = 9
    path = str(tmp_path / 'bad.png')
    Image.fromarray(bad).save(path)
    with pytest.raises(ValueError, match=r'bad.png has labels \[9\]'):
        load(dict(img=img, weak_map_path=path, num_classes=7))
    # An image without labelled pixels is legitimate: empty tags.
    path = str(tmp_path / 'empty.png')
    Image.fromarray(weak).save(path)
    out = load(dict(img=img, weak_map_path=path, num_classes=7))
    assert out['img_tags'] == [] and out['seg_fields'] == ['gt_seg_map']


def test_unlabelled_as_ignore_for_plain_ce(tmp_path):
    weak = np.full((4, 4), UNLABELLED, np.uint8)
    weak[0, 0] = 3
    path = str(tmp_path / 'w.png')
    Image.fromarray(weak).save(path)
    load = TRANSFORMS.build(
        dict(type='LoadWeakAnnotations', unlabelled_as_ignore=True)
    )
    out = load(
        dict(
            img=np.zeros((4, 4, 3), np.uint8),
            weak_map_path=path,
            num_classes=7,
        )
    )
    assert out['img_tags'] == [3]
    assert set(np.unique(out['gt_seg_map'])) == {3, IGNORE_INDEX}


def test_weak_dataset_errors(demo_root, tmp_path):
    base = dict(
        type='WeakSegDataset',
        data_root=demo_root,
        ann_file='ImageSets/Segmentation/train.txt',
        metainfo=dict(classes=('a', 'b', 'c')),
    )
    prefix = dict(img_path='JPEGImages', seg_map_path='SegmentationClass')
    with pytest.raises(
        FileNotFoundError, match=r'weak_map file .*nowhere/000000.png'
    ):
        DATASETS.build(
            dict(base, data_prefix=dict(prefix, weak_path='nowhere'))
        )
    with pytest.raises(FileNotFoundError, match='tags_file .*none.json'):
        DATASETS.build(dict(base, tags_file='none.json'))
    path = tmp_path / 'tags.json'
    path.write_text(json.dumps({'000000': [0, 5]}))
    with pytest.raises(ValueError, match=r'image 000000 has tags \[5\]'):
        DATASETS.build(dict(base, tags_file=str(path)))
    path.write_text(json.dumps({'000000': [1]}))
    with pytest.raises(KeyError, match='no tags for image 000001'):
        DATASETS.build(dict(base, tags_file=str(path)))


def test_load_superpixels_16bit(tmp_path):
    regions = np.arange(20 * 30, dtype=np.uint16).reshape(20, 30) * 50
    path = str(tmp_path / 'sp.png')
    Image.fromarray(regions).save(path)
    out = TRANSFORMS.build(dict(type='LoadSuperpixels'))(
        dict(img=np.zeros((20, 30, 3), np.uint8), superpixel_path=path)
    )
    np.testing.assert_array_equal(out['gt_superpixel'], regions)
    assert out['gt_superpixel'].dtype == np.int32


def test_compute_superpixels_follow_colour_edges():
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, 20:] = 255
    for method, kwargs in (('felzenszwalb', {}), ('slic', dict(n_segments=4))):
        out = TRANSFORMS.build(
            dict(type='ComputeSuperpixels', method=method, **kwargs)
        )(dict(img=img.copy()))
        sp = out['gt_superpixel']
        assert not set(sp[:, :20].ravel()) & set(sp[:, 20:].ravel())
    with pytest.raises(ValueError, match='method must be one of'):
        TRANSFORMS.build(dict(type='ComputeSuperpixels', method='watershed'))


def test_data_preprocessor_pads_superpixels():
    pre = MODELS.build(
        dict(
            type='WeakSegDataPreProcessor',
            mean=[0, 0, 0],
            std=[1, 1, 1],
            size_divisor=4,
        )
    )
    samples, inputs = [], []
    for h, w in ((6, 8), (8, 5)):
        inputs.append(torch.zeros(3, h, w))
        sample = SegDataSample(
            gt_sem_seg=PixelData(data=torch.zeros(1, h, w, dtype=torch.long)),
            metainfo=dict(img_shape=(h, w)),
        )
        sample.set_data(
            dict(
                gt_superpixel=PixelData(
                    data=torch.full((1, h, w), 7, dtype=torch.long)
                )
            )
        )
        samples.append(sample)
    out = pre(dict(inputs=inputs, data_samples=samples), training=True)
    assert out['inputs'].shape == (2, 3, 8, 8)
    for sample, (h, w) in zip(out['data_samples'], ((6, 8), (8, 5))):
        sp, seg = sample.gt_superpixel.data, sample.gt_sem_seg.data
        assert sp.shape == seg.shape == (1, 8, 8)
        assert (sp[:, :h, :w] == 7).all()
        np.testing.assert_array_equal(
            (sp == SUPERPIXEL_PAD).numpy(), (seg == IGNORE_INDEX).numpy()
        )
