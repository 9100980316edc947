# Copyright (c) mmseg-spml contributors. All rights reserved.
import os

import cv2

from tests.helpers.tools import ROOT, load_tool

CONFIG = f"""
_base_ = ['{ROOT}/configs/_base_/datasets/demo_scenes.py']
custom_imports = dict(imports=['mmseg_spml'])
default_scope = 'mmseg'
train_dataloader = dict(dataset=dict(
    generator=dict(num_train=3, num_val=1, size=48),
    weak=dict(type='points'),
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadWeakAnnotations'),
        dict(type='ComputeSuperpixels'),
        dict(type='PackWeakSegInputs'),
    ]))
"""


def test_browse_writes_pictures(tmp_path, monkeypatch):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG)
    out = tmp_path / 'out'
    load_tool('analysis_tools/browse_weak_dataset.py').main(
        [str(config), '--out', str(out), '--num', '5']
    )
    files = sorted(os.listdir(out))
    assert files == ['000000.jpg', '000001.jpg', '000002.jpg']
    picture = cv2.imread(str(out / files[0]))
    # Image, weak labels, superpixels side by side, plus the tag band.
    assert picture.shape == (48 + 28, 3 * 48, 3)
