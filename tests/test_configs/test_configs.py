# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Every shipped config loads, builds its model and dataset, and the model
takes a training step on a tiny batch."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample

from tests.helpers.tools import ROOT

CONFIGS = sorted(
    p
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p
)


def test_configs_found():
    assert CONFIGS, 'no configs collected'


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS]
)
def test_config_builds_and_steps(path, tmp_path, monkeypatch):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path))
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    dataset_cfg = cfg.train_dataloader.dataset
    # Segmentors have a decode head; the CAM classifier has num_classes.
    model_classes = cfg.model.get('decode_head', cfg.model).num_classes
    if dataset_cfg.get('weak', 'unset') is None:
        # Stage-2 configs read pseudo labels an earlier stage writes.
        dataset_cfg.data_prefix.pop('weak_path', None)
        dataset_cfg.pop('tags_file', None)
    if dataset_cfg.type == 'DemoScenesDataset':
        # Generate a tiny copy instead of the full demo data.
        dataset_cfg.generator = dict(num_train=2, num_val=1, size=32)
        num_classes = len(DATASETS.build(dataset_cfg).metainfo['classes'])
        assert model_classes == num_classes
    model.train()
    h = w = 64
    inputs = torch.rand(2, 3, h, w) * 255
    samples = []
    for _ in range(2):
        label = torch.randint(0, model_classes, (1, h, w))
        sample = SegDataSample(
            gt_sem_seg=PixelData(data=label),
            metainfo=dict(
                img_shape=(h, w),
                pad_shape=(h, w),
                ori_shape=(h, w),
                img_tags=sorted(set(label.unique().tolist())),
            ),
        )
        # Weak-supervision fields; heads that do not use them ignore them.
        sample.set_data(
            dict(
                gt_superpixel=PixelData(
                    data=torch.arange(h * w).view(1, h, w) // 64
                )
            )
        )
        samples.append(sample)
    data = model.data_preprocessor(
        dict(inputs=list(inputs), data_samples=samples), True
    )
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
