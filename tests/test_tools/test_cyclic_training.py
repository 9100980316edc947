# Copyright (c) mmseg-spml contributors. All rights reserved.
"""CyclicPseudoMaskHook inside a real tools/train.py run (tiny data)."""

import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

from tests.helpers.tools import ROOT, python_tool, run

pytestmark = pytest.mark.slow

TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_cyclic.py')


def test_training_rewrites_pseudo_masks_and_restarts(tmp_path, monkeypatch):
    data = str(tmp_path / 'data')
    monkeypatch.setenv('MMSEG_SPML_DATA', data)
    cfg = Config.fromfile(TINY)
    init_default_scope('mmseg')
    dataset = DATASETS.build(cfg.custom_hooks[0].dataloader.dataset)
    tags = json.load(open(osp.join(dataset.data_root, dataset.tags_file)))
    # Round-0 "pseudo masks": all background.
    labels = tmp_path / 'labels'
    shutil.copytree(osp.join(dataset.data_root, 'SegmentationClass'), labels)
    for name in os.listdir(labels):
        path = labels / name
        Image.fromarray(np.zeros_like(np.array(Image.open(path)))).save(path)
    work = tmp_path / 'work'
    proc = run(
        python_tool(
            'train.py', TINY, '--work-dir', str(work), '--cfg-options',
            f'train_dataloader.dataset.data_prefix.seg_map_path={labels}',
            f'custom_hooks.0.label_dir={labels}',
        ),
        data,
    )  # fmt: skip
    assert 'cyclic pseudo-mask round 1 done' in proc.stdout
    assert 'model re-initialised' in proc.stdout
    assert osp.isfile(work / 'iter_4.pth')
    archive = work / 'cyclic_pseudo_masks' / 'before_round_1'
    train_names = [
        osp.splitext(osp.basename(dataset.get_data_info(i)['img_path']))[0]
        for i in range(len(dataset))
    ]
    assert len(train_names) == 4
    for name in train_names:
        assert not np.array(Image.open(archive / f'{name}.png')).any()
        new = np.unique(np.array(Image.open(labels / f'{name}.png')))
        assert set(new.tolist()) <= {0} | set(tags[name])
