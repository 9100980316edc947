# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch
from mmengine.config import Config

from mmseg_spml.utils import adapt_cfg_to_device, resolve_dist_backend


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
