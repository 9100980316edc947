# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/analysis_tools/visualize_spml.py on tiny demo data with an
untrained model."""

import os
import os.path as osp

import cv2
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from tests.helpers.tools import ROOT, TINY_CONFIG, load_tool

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')


def _checkpoint(config: str, path) -> str:
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def test_draws_train_and_val_images(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    ckpt = _checkpoint(TINY_SPML, tmp_path / 'stage1.pth')
    tool = load_tool('analysis_tools/visualize_spml.py')
    out = tmp_path / 'vis'
    args = [TINY_SPML, ckpt, '--out', str(out / 'train'), '--num-images', '3']
    assert tool.main(args + ['--device', 'cpu']) == 0
    # The training images as loaded (32 px: no random resize or crop).
    files = sorted(os.listdir(out / 'train'))
    assert files == ['000000.png', '000001.png', '000002.png']
    strip = cv2.imread(str(out / 'train' / files[0]))
    assert strip.shape == (32, 6 * 32, 3)
    assert '3 train images drawn' in capsys.readouterr().out

    # Validation: the config's test pipeline resizes the images to 128.
    args = [TINY_SPML, ckpt, '--out', str(out / 'val'), '--split', 'val']
    args += ['--num-images', '5', '--segment-style', 'boundaries']
    assert tool.main(args + ['--device', 'cpu']) == 0
    files = sorted(os.listdir(out / 'val'))
    assert len(files) == 2  # the whole (tiny) validation set
    assert cv2.imread(str(out / 'val' / files[0])).shape == (128, 768, 3)


def test_refuses_models_without_an_spml_head(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    ckpt = _checkpoint(TINY_CONFIG, tmp_path / 'baseline.pth')
    tool = load_tool('analysis_tools/visualize_spml.py')
    args = [TINY_CONFIG, ckpt, '--out', str(tmp_path / 'vis')]
    assert tool.main(args + ['--device', 'cpu']) == 1
    assert 'decode head computes embeddings' in capsys.readouterr().out
