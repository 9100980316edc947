# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Run the repository's tools in subprocesses and read the results of
finished training runs (for the demo and pipeline drivers)."""

import glob
import json
import os
import os.path as osp
import socket
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config


def free_port() -> str:
    """A TCP port free on 127.0.0.1 now (for a process group's master)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


def last_val_metrics(work_dir: str) -> Dict[str, float]:
    """Metrics of the last validation of the newest run in ``work_dir``.

    Raises:
        RuntimeError: If no run in ``work_dir`` logged a validation mIoU.
    """
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    )
    for scalars in reversed(files):
        with open(scalars) as f:
            records = [json.loads(line) for line in f if line.strip()]
        val = [r for r in records if 'mIoU' in r]
        if val:
            return val[-1]
    raise RuntimeError(
        f'no validation mIoU found under {work_dir}/*/'
        'vis_data/scalars.json: did training finish?'
    )


def finished_metrics(work_dir: str) -> Optional[Dict[str, float]]:
    """:func:`last_val_metrics` of a finished run in ``work_dir``, None if
    no run there has validated yet."""
    try:
        return last_val_metrics(work_dir)
    except RuntimeError:
        return None


class ToolRunner:
    """Runs the scripts of a tools folder, logging each command with a tag,
    and trains configs unless their run already finished.

    Args:
        tools_dir (str): The folder of the scripts (a checkout's
            ``tools/``, which holds ``train.py`` and ``dist_train.sh``);
            commands run from its parent folder.
        tag (str): Printed before every command, e.g. ``'[demo]'``.
    """

    def __init__(self, tools_dir: str, tag: str) -> None:
        self.tools_dir = tools_dir
        self.root = osp.dirname(osp.abspath(tools_dir))
        self.tag = tag

    def command(self, name: str, *args: str) -> List[str]:
        """The command line of the script ``name`` with ``args``."""
        return [sys.executable, osp.join(self.tools_dir, name), *args]

    def run(
        self, cmd: List[str], env: Optional[Dict[str, str]] = None
    ) -> None:
        """Print and run ``cmd`` from the root (``env``: variables added to
        this process's environment); fail if it fails."""
        print(f'{self.tag} {" ".join(cmd)}', flush=True)
        full_env = dict(os.environ, **env) if env else None
        subprocess.run(cmd, check=True, cwd=self.root, env=full_env)

    def train(
        self,
        config: str,
        work_dir: str,
        options: Sequence[str] = (),
        procs: int = 1,
    ) -> dict:
        """Train ``config`` with ``procs`` processes (see
        :func:`train_command`) unless ``work_dir`` holds a finished run; its
        last validation metrics and the training time in ``seconds`` (0 when
        skipped). An interrupted run (a ``last_checkpoint`` but no
        validation yet) resumes from its latest checkpoint."""
        done = finished_metrics(work_dir)
        if done is not None:
            return dict(done, seconds=0.0)
        cmd, env = train_command(self.tools_dir, config, procs)
        cmd += ['--work-dir', work_dir]
        if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
            cmd.append('--resume')
        if options:
            cmd += ['--cfg-options', *options]
        start = time.time()
        self.run(cmd, env)
        return dict(last_val_metrics(work_dir), seconds=time.time() - start)


def train_command(
    tools_dir: str, config: str, procs: int = 1
) -> Tuple[List[str], Dict[str, str]]:
    """The command that trains ``config`` with ``procs`` processes:
    ``train.py`` for one, ``dist_train.sh CONFIG procs`` (on a free local
    port, with this interpreter) for several.

    Args:
        tools_dir (str): The folder of ``train.py`` and ``dist_train.sh``.
        config (str): The config file.
        procs (int): Number of processes. Default: 1.

    Returns:
        tuple[list[str], dict[str, str]]: The command, to which train.py
        arguments can be appended, and the environment variables it needs.
    """
    if procs == 1:
        return [
            sys.executable,
            osp.join(tools_dir, 'train.py'),
            config,
        ], {}
    cmd = [
        'bash',
        osp.join(tools_dir, 'dist_train.sh'),
        config,
        str(procs),
    ]
    return cmd, dict(PORT=free_port(), PYTHON=sys.executable)


def schedule_options(config: str, factor: float) -> List[str]:
    """``--cfg-options`` that shorten (or lengthen) a config's schedule.

    The iteration-based schedule of ``config`` is scaled by ``factor``: the
    number of iterations, the validation and checkpoint intervals and the
    ``begin``/``end`` of every parameter scheduler (warm-up and decay keep
    their share of the run). Used by the demo drivers for their quick mode.

    Args:
        config (str): Path of a config with ``train_cfg.max_iters``.
        factor (float): Scale of the schedule, > 0.

    Returns:
        list[str]: ``key=value`` strings for ``tools/train.py
        --cfg-options`` (list entries addressed by index).

    Raises:
        ValueError: If ``factor`` is not positive or the config has no
            iteration-based schedule.
    """
    if factor <= 0:
        raise ValueError(f'schedule factor must be > 0, got {factor}')
    cfg = Config.fromfile(config)
    max_iters = cfg.get('train_cfg', {}).get('max_iters')
    if not max_iters:
        raise ValueError(
            f'{config}: train_cfg.max_iters is not set; only '
            'iteration-based schedules can be scaled'
        )

    def scaled(value: int) -> int:
        return max(1, round(value * factor))

    options = [
        f'train_cfg.max_iters={scaled(max_iters)}',
        f'train_cfg.val_interval={scaled(max_iters)}',
    ]
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint') or {}
    if checkpoint.get('interval'):
        options.append(
            'default_hooks.checkpoint.interval='
            f'{scaled(checkpoint["interval"])}'
        )
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
        prefix = 'param_scheduler.{key}'
    else:
        prefix = 'param_scheduler.{index}.{key}'
    for index, scheduler in enumerate(schedulers):
        for key in ('begin', 'end'):
            if scheduler.get(key):
                options.append(
                    prefix.format(index=index, key=key)
                    + f'={scaled(scheduler[key])}'
                )
    return options


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (n - 1; 0 for one value).

    Raises:
        ValueError: If ``values`` is empty.
    """
    if not values:
        raise ValueError('mean_std needs at least one value')
    values = [float(v) for v in values]
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.mean(values), std


def format_mean_std(values: Sequence[float]) -> str:
    """``'mean ± std'`` with two decimals, e.g. ``'65.10 ± 2.31'``; a
    single value is written alone."""
    mean, std = mean_std(values)
    if len(values) == 1:
        return f'{mean:.2f}'
    return f'{mean:.2f} ± {std:.2f}'


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint a finished run in ``work_dir`` saved last."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()
