# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Make configs written for GPUs run unchanged on CPU-only machines."""

import contextlib
import datetime
import gc
import logging
import os
import subprocess
from typing import Any, ContextManager, Union

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log

#: Value of ``env_cfg.dist_cfg.backend`` that picks NCCL or gloo at run time.
AUTO_BACKEND = 'auto'


def resolve_dist_backend(backend: str) -> str:
    """Choose the process-group backend for this machine.

    Args:
        backend (str): The configured backend. ``'auto'`` means NCCL when
            CUDA is available and gloo otherwise; ``'nccl'`` without CUDA
            falls back to gloo with a warning; anything else is kept.

    Returns:
        str: The backend to use.
    """
    cuda = torch.cuda.is_available()
    if backend == AUTO_BACKEND:
        return 'nccl' if cuda else 'gloo'
    if backend == 'nccl' and not cuda:
        print_log(
            'CUDA is not available: using the gloo backend instead of nccl.',
            logger='current',
            level=logging.WARNING,
        )
        return 'gloo'
    return backend


def autocast_disabled(device: Union[torch.device, str]) -> ContextManager:
    """A context that turns autocast off on ``device``'s type.

    For code that must compute in float32 under mixed precision (the SPML
    losses exponentiate scaled cosine similarities; k-means compares them):
    autocast would run its matmuls in float16/bfloat16 even on float32
    inputs. Inputs still need an explicit ``.float()``.

    Args:
        device (torch.device | str): Device of the tensors involved.

    Returns:
        ContextManager: ``torch.autocast(type, enabled=False)``, or a no-op
        where the device type has no autocast.
    """
    device_type = torch.device(device).type
    is_available = getattr(torch.amp, 'is_autocast_available', None)
    if is_available is not None and not is_available(device_type):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device_type, enabled=False)


def _replace_sync_bn(node: Any) -> int:
    """Turn every ``dict(type='SyncBN')`` under ``node`` into
    ``SPMLSyncBN`` in place.

    Returns:
        int: The number of replaced entries.
    """
    count = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'SPMLSyncBN'
            count += 1
        for value in node.values():
            count += _replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += _replace_sync_bn(value)
    return count


def adapt_cfg_to_device(cfg: Config) -> Config:
    """Adapt a training/testing config to the machine it runs on.

    On GPU machines only ``dist_cfg.backend='auto'`` is resolved (to NCCL).
    On CPU-only machines, in addition:

    * NCCL is replaced by gloo;
    * MMEngine's ``AmpOptimWrapper`` (which asserts a GPU) becomes
      ``SPMLAmpOptimWrapper`` (bfloat16 autocast on CPU);
    * distributed runs wrap the model in DDP without ``device_ids``
      (MMEngine passes the local rank as a CUDA device id otherwise);
    * ``SyncBN`` becomes ``SPMLSyncBN`` in distributed runs: the same
      global batch statistics over gloo (torch's SyncBN needs CUDA;
      single-process runs are reverted to BN by MMEngine itself).

    Args:
        cfg (Config): The config, with ``cfg.launcher`` already set.

    Returns:
        Config: The same config object, modified in place.
    """
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = resolve_dist_backend(
        dist_cfg.get('backend', AUTO_BACKEND)
    )
    if torch.cuda.is_available():
        return cfg
    optim_wrapper = cfg.get('optim_wrapper')
    if optim_wrapper and optim_wrapper.get('type') == 'AmpOptimWrapper':
        optim_wrapper['type'] = 'SPMLAmpOptimWrapper'
        print_log(
            'CUDA is not available: AmpOptimWrapper is built as '
            'SPMLAmpOptimWrapper (bfloat16 autocast on CPU).',
            logger='current',
            level=logging.WARNING,
        )
    if cfg.get('launcher', 'none') == 'none':
        return cfg
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False),
        )
    if _replace_sync_bn(cfg.model):
        print_log(
            'CUDA is not available: SyncBN layers are built as '
            'SPMLSyncBN (batch statistics synchronised over gloo).',
            logger='current',
            level=logging.WARNING,
        )
    return cfg


#: Slurm's variables that ``--launcher slurm`` reads (set by ``srun``).
SLURM_VARS = ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')


def slurm_to_torch_env() -> None:
    """Set ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
    ``MASTER_PORT`` from Slurm's variables, as MMEngine's slurm launcher
    does (the first host of ``scontrol show hostname $SLURM_NODELIST``; port
    29500), without its CUDA calls. Variables already set to an address or
    port win.

    Raises:
        RuntimeError: A Slurm variable is missing (not started by srun).
    """
    missing = [name for name in SLURM_VARS if name not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher slurm needs {", ".join(missing)} in the '
            'environment (set by srun, e.g. through tools/slurm_train.sh)'
        )
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {nodes} | head -n1'
        )
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def init_cpu_dist(cfg: Config) -> None:
    """Initialise the process group of a CPU-only distributed job.

    MMEngine's ``init_dist`` calls ``torch.cuda.set_device``, which CPU
    builds of torch lack; the Runner skips its own initialisation when a
    process group already exists. Handles the ``pytorch`` (torchrun) and
    ``slurm`` (srun) launchers. Does nothing on CUDA machines, in
    single-process runs, or if a process group exists.

    Args:
        cfg (Config): Config adapted by :func:`adapt_cfg_to_device`.

    Raises:
        ValueError: Another launcher (``mpi``) on a CPU-only machine.
    """
    launcher = cfg.get('launcher', 'none')
    if (
        torch.cuda.is_available()
        or launcher == 'none'
        or torch_dist.is_initialized()
    ):
        return
    if launcher == 'slurm':
        slurm_to_torch_env()
    elif launcher != 'pytorch':
        raise ValueError(
            f'--launcher {launcher} is not supported on CPU-only machines; '
            'use pytorch (torchrun, tools/dist_train.sh) or slurm'
        )
    dist_cfg = dict(cfg.env_cfg.dist_cfg)
    timeout = dist_cfg.pop('timeout', None)
    if timeout is not None:
        dist_cfg['timeout'] = datetime.timedelta(seconds=timeout)
    torch_dist.init_process_group(
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **dist_cfg,
    )


def close_dist() -> None:
    """Wait for every rank, then destroy all process groups.

    Called by the tools when their work is done. Left to interpreter exit,
    gloo's threads are torn down in no particular order, and a finished
    job can abort ("terminate called without an active exception") or
    hang. Call it once the runner (and its DDP model, whose reducer holds
    gloo work objects) is released: the garbage of reference cycles is
    collected first, so no pending work is left for interpreter exit to
    destroy. A no-op without a process group.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()
        torch_dist.barrier()
        torch_dist.destroy_process_group()
