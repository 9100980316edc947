# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/dist_train.sh and dist_test.sh with 2 CPU processes (gloo)."""

import os.path as osp
import sys

import pytest
import torch

import mmseg_spml  # noqa: F401  (checkpoint allow-list for torch.load)
from tests.helpers.tools import ROOT, TINY_CONFIG, free_port, run

pytestmark = pytest.mark.slow


def test_dist_train_then_dist_test_two_processes(tmp_path):
    data, work = str(tmp_path / 'data'), str(tmp_path / 'work')
    env = dict(PORT=free_port(), PYTHON=sys.executable)
    proc = run(
        [
            'bash',
            osp.join(ROOT, 'tools', 'dist_train.sh'),
            TINY_CONFIG,
            '2',
            '--work-dir',
            work,
        ],
        data,
        env=env,
    )
    # mmengine reports the world size as 'GPU number'.
    assert 'Distributed training: True' in proc.stdout
    assert 'GPU number: 2' in proc.stdout
    assert "dist_cfg: {'backend': 'gloo'}" in proc.stdout
    ckpt = torch.load(osp.join(work, 'iter_6.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 6
    # DDP wrapped the model, the checkpoint holds the bare module's keys.
    assert not any(k.startswith('module.') for k in ckpt['state_dict'])

    env['PORT'] = free_port()
    proc = run(
        [
            'bash',
            osp.join(ROOT, 'tools', 'dist_test.sh'),
            TINY_CONFIG,
            osp.join(work, 'iter_6.pth'),
            '2',
            '--work-dir',
            osp.join(work, 'test'),
        ],
        data,
        env=env,
    )
    assert 'mIoU' in proc.stdout
