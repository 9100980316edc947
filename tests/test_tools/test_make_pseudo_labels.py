# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/make_pseudo_labels.py on tiny demo data with an untrained model."""

import json
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from tests.helpers.tools import ROOT, load_tool

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')


def test_pseudo_labels_respect_tags_and_annotations_and_resume(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    cfg = Config.fromfile(TINY_SPML)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    out = tmp_path / 'pseudo'
    tool = load_tool('make_pseudo_labels.py')
    args = [TINY_SPML, str(ckpt), '--out', str(out)]
    assert tool.main(args) == 0
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    tags = json.loads((out / 'tags.json').read_text())
    assert len(tags) == len(dataset) == 4
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        name = osp.splitext(osp.basename(info['img_path']))[0]
        label = np.array(Image.open(out / f'{name}.png'))
        weak = np.array(Image.open(info['weak_map_path']))
        assert label.shape == weak.shape == (32, 32)
        assert set(np.unique(label).tolist()) <= set(info['img_tags'])
        annotated = weak < 7
        assert (label[annotated] == weak[annotated]).all()
        assert tags[name] == sorted(info['img_tags'])
    capsys.readouterr()
    assert tool.main(args) == 0
    assert 'rank 0 writes 0 labels' in capsys.readouterr().out


def test_pseudo_labels_with_crf_backends(tmp_path, monkeypatch):
    """--crf with either backend refines within the image's tags."""
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    cfg = Config.fromfile(TINY_SPML)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    ckpt = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
    tool = load_tool('make_pseudo_labels.py')
    tags = {}
    for backend in ('torch', 'pydensecrf'):
        out = tmp_path / backend
        args = [TINY_SPML, str(ckpt), '--out', str(out), '--crf', '1024']
        assert tool.main(args + ['--crf-backend', backend]) == 0
        tags[backend] = json.loads((out / 'tags.json').read_text())
        for name, image_tags in tags[backend].items():
            label = np.array(Image.open(out / f'{name}.png'))
            assert label.shape == (32, 32)
            assert set(np.unique(label).tolist()) <= set(image_tags)
    assert tags['torch'] == tags['pydensecrf']
