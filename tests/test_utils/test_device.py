# Copyright (c) mmseg-spml contributors. All rights reserved.
import os

import pytest
import torch
from mmengine.config import Config

from mmseg_spml.utils import (
    adapt_cfg_to_device,
    init_cpu_dist,
    resolve_dist_backend,
)
from mmseg_spml.utils.device import slurm_to_torch_env


def _cfg(launcher, backend='nccl'):
    return Config(
        dict(
            launcher=launcher,
            env_cfg=dict(dist_cfg=dict(backend=backend)),
            model=dict(
                type='EncoderDecoder',
                backbone=dict(norm_cfg=dict(type='SyncBN')),
                decode_head=[dict(norm_cfg=dict(type='SyncBN'))],
            ),
        )
    )


@pytest.mark.parametrize(
    'cuda, configured, expected',
    [
        (True, 'auto', 'nccl'),
        (False, 'auto', 'gloo'),
        (False, 'nccl', 'gloo'),
        (True, 'nccl', 'nccl'),
        (False, 'mpi', 'mpi'),
    ],
)
def test_resolve_dist_backend(monkeypatch, cuda, configured, expected):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    assert resolve_dist_backend(configured) == expected


def test_cpu_distributed_config_is_adapted(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = adapt_cfg_to_device(_cfg('pytorch'))
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.model.backbone.norm_cfg.type == 'SPMLSyncBN'
    assert cfg.model.decode_head[0].norm_cfg.type == 'SPMLSyncBN'


def test_cpu_single_process_keeps_model(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = adapt_cfg_to_device(_cfg('none'))
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert 'model_wrapper_cfg' not in cfg
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'


def test_gpu_distributed_config_is_untouched(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = adapt_cfg_to_device(_cfg('pytorch', backend='auto'))
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'


def test_close_dist_destroys_the_group_and_is_a_no_op_without_one():
    import torch.distributed as torch_dist

    from mmseg_spml.utils import close_dist
    from tests.helpers.tools import free_port

    close_dist()  # nothing to close
    torch_dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{free_port()}',
        rank=0,
        world_size=1,
    )
    close_dist()
    assert not torch_dist.is_initialized()


SLURM = dict(SLURM_PROCID='1', SLURM_NTASKS='4', SLURM_NODELIST='n[3-4]')


def _fake_scontrol(tmp_path, monkeypatch):
    """An ``scontrol`` on PATH that prints the hosts of ``n[3-4]``."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    script = bin_dir / 'scontrol'
    script.write_text('#!/bin/sh\nprintf "n3\\nn4\\n"\n')
    script.chmod(0o755)
    monkeypatch.setenv('PATH', f'{bin_dir}:{os.environ["PATH"]}')


@pytest.mark.parametrize('master_addr', [None, '10.0.0.7'])
def test_slurm_variables_become_torch_ones(tmp_path, monkeypatch, master_addr):
    _fake_scontrol(tmp_path, monkeypatch)
    # Every variable the function sets is restored after the test.
    for name in ('MASTER_ADDR', 'MASTER_PORT', 'SLURM_LOCALID', 'LOCAL_RANK'):
        monkeypatch.setenv(name, '')
        monkeypatch.delenv(name)
    for name, value in dict(SLURM, RANK='', WORLD_SIZE='').items():
        monkeypatch.setenv(name, value)
    if master_addr:
        monkeypatch.setenv('MASTER_ADDR', master_addr)
    slurm_to_torch_env()
    assert os.environ['RANK'] == '1'
    assert os.environ['WORLD_SIZE'] == '4'
    assert os.environ['LOCAL_RANK'] == '0'
    assert os.environ['MASTER_PORT'] == '29500'
    assert os.environ['MASTER_ADDR'] == (master_addr or 'n3')


def test_slurm_launcher_outside_srun_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for name in SLURM:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('SLURM_NTASKS', '2')
    with pytest.raises(RuntimeError, match='SLURM_PROCID, SLURM_NODELIST'):
        init_cpu_dist(adapt_cfg_to_device(_cfg('slurm')))


def test_mpi_launcher_on_cpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match='--launcher mpi is not supported'):
        init_cpu_dist(adapt_cfg_to_device(_cfg('mpi')))
