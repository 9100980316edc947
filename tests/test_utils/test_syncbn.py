# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Configs written with SyncBN train on CPU without edits: in one process
(MMEngine reverts SyncBN to BN) and in a 2-process gloo job (built as
SPMLSyncBN, whose statistics are checked in tests/test_models/test_layers),
while GPU machines keep SyncBN. The conversion decision itself, with a
mocked ``torch.cuda.is_available``, is in test_device.py; the cases below
complete it."""

import os.path as osp
import sys

import pytest
import torch
from mmcv.ops import SyncBatchNorm as MMCVSyncBN
from mmengine.config import Config
from mmengine.runner import Runner
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

import mmseg_spml  # noqa: F401
from mmseg_spml.utils import adapt_cfg_to_device
from tests.helpers.tools import ROOT, free_port, run

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')


def _norm_types(cfg) -> set:
    return {
        cfg.model.backbone.norm_cfg.type,
        cfg.model.decode_head.norm_cfg.type,
    }


def test_tiny_spml_config_uses_syncbn():
    """The configs below are really SyncBN configs."""
    assert _norm_types(Config.fromfile(TINY_SPML)) == {'SyncBN'}


@pytest.mark.parametrize('launcher', ['none', 'pytorch', 'slurm'])
def test_gpu_keeps_syncbn(monkeypatch, launcher):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config.fromfile(TINY_SPML)
    cfg.launcher = launcher
    assert _norm_types(adapt_cfg_to_device(cfg)) == {'SyncBN'}


@pytest.mark.parametrize(
    'launcher, expected', [('none', 'SyncBN'), ('slurm', 'SPMLSyncBN')]
)
def test_cpu_converts_only_distributed_runs(monkeypatch, launcher, expected):
    """Single-process runs keep the config (MMEngine reverts the layers);
    every distributed launcher gets SPMLSyncBN."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config.fromfile(TINY_SPML)
    cfg.launcher = launcher
    assert _norm_types(adapt_cfg_to_device(cfg)) == {expected}


@pytest.mark.slow
def test_single_process_cpu_trains_syncbn_config(tmp_path, monkeypatch):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    cfg = Config.fromfile(TINY_SPML)
    cfg.launcher = 'none'
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.train_cfg.val_interval = 100  # train only
    adapt_cfg_to_device(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    norms = [m for m in runner.model.modules() if isinstance(m, _BatchNorm)]
    assert norms  # MMEngine's _BatchNormXd
    assert not any(
        isinstance(m, (nn.SyncBatchNorm, MMCVSyncBN)) for m in norms
    )


@pytest.mark.slow
def test_two_process_gloo_trains_syncbn_config_as_spml_syncbn(tmp_path):
    proc = run(
        [
            'bash',
            osp.join(ROOT, 'tools', 'dist_train.sh'),
            TINY_SPML,
            '2',
            '--work-dir',
            str(tmp_path / 'work'),
        ],
        str(tmp_path / 'data'),
        env=dict(PORT=free_port(), PYTHON=sys.executable),
        timeout=300,
    )
    log = proc.stdout
    assert 'GPU number: 2' in log
    assert 'SyncBN layers are built as SPMLSyncBN' in log
    # The config the Runner dumped is the adapted one.
    dumped = Config.fromfile(str(tmp_path / 'work' / 'tiny_spml.py'))
    assert _norm_types(dumped) == {'SPMLSyncBN'}
    # SyncBatchNorm would have failed on CPU tensors.
    assert 'Iter(train) [2/2]' in log
