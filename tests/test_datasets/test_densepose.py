# Copyright (c) mmseg-spml contributors. All rights reserved.
"""COCO-DensePose conversion, the parts dataset and flip relabelling."""

import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, TRANSFORMS
from PIL import Image
from pycocotools import mask as mask_utils

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets.converters import (
    DENSEPOSE_FLIP_MAP,
    decode_dp_masks,
    image_part_maps,
)
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from tests.helpers.tools import ROOT, load_tool


def _dp_masks(grid: np.ndarray) -> list:
    """14 RLEs of a 256x256 part map (values 0..14)."""
    masks = []
    for part in range(1, 15):
        m = np.asfortranarray((grid == part).astype(np.uint8))
        if m.any():
            rle = mask_utils.encode(m)
            rle['counts'] = rle['counts'].decode()
            masks.append(rle)
        else:
            masks.append([])
    return masks


def _coco():
    grid = np.zeros((256, 256), np.uint8)
    grid[:128, :] = 14  # head on top
    grid[128:, :128] = 2  # right hand bottom-left
    grid[128:, 128:] = 3  # left hand bottom-right
    image = dict(
        id=1, file_name='COCO_train2014_000000000001.jpg', height=40, width=60
    )
    other = dict(
        id=2, file_name='COCO_train2014_000000000002.jpg', height=10, width=10
    )
    anns = [
        dict(
            id=1,
            image_id=1,
            bbox=[10, 4, 20, 30],
            dp_masks=_dp_masks(grid),
            category_id=1,
        ),
        # A person COCO annotated but DensePose did not: void.
        dict(
            id=2,
            image_id=1,
            bbox=[40, 0, 10, 10],
            iscrowd=0,
            segmentation=[[40, 0, 50, 0, 50, 10, 40, 10]],
            category_id=1,
        ),
        dict(
            id=3,
            image_id=2,
            bbox=[0, 0, 5, 5],
            category_id=1,
            segmentation=[[0, 0, 4, 0, 4, 4]],
        ),
    ]
    return dict(
        images=[image, other],
        annotations=anns,
        categories=[dict(id=1, name='person')],
    )


def test_decode_and_paste_hand_computed():
    coco = _coco()
    parts = decode_dp_masks(coco['annotations'][0]['dp_masks'], 'x')
    assert set(np.unique(parts)) == {2, 3, 14}
    label, instance = image_part_maps(
        coco['images'][0], coco['annotations'][:2]
    )
    # Box x 10..29, y 4..33: top half head, bottom halves hands.
    assert (label[4:19, 10:30] == 14).all()
    assert (label[19:34, 10:20] == 2).all() and (
        label[19:34, 20:30] == 3
    ).all()
    assert (label[:4, :40] == 0).all() and (label[:, :10] == 0).all()
    assert (label[0:10, 40:50] == IGNORE_INDEX).all()
    assert (instance[4:34, 10:30] == 1).all()
    assert (instance[0:10, 40:50] == IGNORE_INDEX).all()
    with pytest.raises(ValueError, match='x: dp_masks has 3 entries'):
        decode_dp_masks([[], [], []], 'x')


def test_flip_part_labels():
    flip = TRANSFORMS.build(dict(type='FlipPartLabels'))
    seg = np.array([[2, 3, 4, 5, 1, 14, UNLABELLED, IGNORE_INDEX]], np.uint8)
    out = flip(
        dict(
            gt_seg_map=seg.copy(),
            flip=True,
            flip_direction='horizontal',
            img_tags=[0, 2, 12],
        )
    )
    np.testing.assert_array_equal(
        out['gt_seg_map'], [[3, 2, 5, 4, 1, 14, UNLABELLED, IGNORE_INDEX]]
    )
    assert out['img_tags'] == [0, 3, 13]
    same = flip(dict(gt_seg_map=seg.copy(), flip=False))
    np.testing.assert_array_equal(same['gt_seg_map'], seg)
    assert DENSEPOSE_FLIP_MAP[DENSEPOSE_FLIP_MAP[6]] == 6
    with pytest.raises(ValueError, match='permutation'):
        TRANSFORMS.build(dict(type='FlipPartLabels', flip_map=[0, 0, 1]))


def test_converter_and_dataset(tmp_path):
    ann_file = tmp_path / 'densepose.json'
    ann_file.write_text(json.dumps(_coco()))
    out = tmp_path / 'densepose'
    load_tool('dataset_converters/densepose.py').main(
        [str(ann_file), '--out', str(out), '--radius', '1']
    )
    stem = 'COCO_train2014_000000000001'
    # Only the image with DensePose data is listed.
    assert (out / 'ImageSets' / 'train.txt').read_text() == stem + '\n'
    points = np.array(Image.open(out / 'points' / f'{stem}.png'))
    full = np.array(Image.open(out / 'SegmentationPart' / f'{stem}.png'))
    labelled = points != UNLABELLED
    np.testing.assert_array_equal(points[labelled], full[labelled])
    assert set(np.unique(points[labelled])) == {0, 2, 3, 14}
    assert json.load(open(out / 'points' / 'tags.json')) == {
        stem: [0, 2, 3, 14]
    }

    coco_dir = tmp_path / 'coco' / 'train2014'
    coco_dir.mkdir(parents=True)
    Image.new('RGB', (60, 40)).save(coco_dir / f'{stem}.jpg')
    init_default_scope('mmseg')
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/_base_/datasets/densepose_parts_points.py')
    )
    cfg.train_dataloader.dataset.data_root = str(out)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 1 and len(dataset.metainfo['classes']) == 15
    sample = dataset[0]['data_samples']
    assert sample.gt_sem_seg.data.shape == (1, 512, 512)
    assert sample.img_tags in ([0, 2, 3, 14],)  # flip swaps 2 <-> 3

    proc_out = tmp_path / 'none'
    empty = tmp_path / 'empty.json'
    empty.write_text(json.dumps(dict(images=[], annotations=[])))
    with pytest.raises(SystemExit, match='no image .* has DensePose'):
        load_tool('dataset_converters/densepose.py').main(
            [str(empty), '--out', str(proc_out)]
        )
