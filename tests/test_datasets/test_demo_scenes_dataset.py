# Copyright (c) mmseg-spml contributors. All rights reserved.
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets import DEMO_CLASSES, DemoSceneConfig, render_scene

GEN = dict(num_train=4, num_val=2, size=40, seed=1)
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]


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
