# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Multi-node launches on CPU (gloo): tools/dist_train.sh across two local
"nodes" of one process each, joined through NNODES, NODE_RANK,
MASTER_ADDR and PORT; and ``--launcher slurm`` with the variables srun
sets (and a stand-in ``scontrol``)."""

import os
import os.path as osp
import signal
import subprocess
import sys
from typing import List

import pytest

from tests.helpers.tools import ROOT, free_port, python_tool, tool_env

pytestmark = pytest.mark.slow

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')
TIMEOUT = 240
SHORT = ['--cfg-options', 'train_cfg.max_iters=3', 'train_cfg.val_interval=3']


def _run_together(cmd: List[str], envs: List[dict], tmp_path) -> str:
    """Start ``cmd`` once per environment, wait for all, check that every
    one exited with 0, and return the output of the first."""
    procs, logs = [], []
    for i, env in enumerate(envs):
        log = open(tmp_path / f'proc{i}.log', 'w+')
        logs.append(log)
        procs.append(
            subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # to kill torchrun and its worker
            )
        )
    codes = []
    try:
        for proc in procs:
            codes.append(proc.wait(timeout=TIMEOUT))
    except subprocess.TimeoutExpired:
        codes.append('timeout')
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read())
        log.close()
    assert codes == [0] * len(envs), '\n'.join(
        f'--- process {i} ---\n{out[-4000:]}' for i, out in enumerate(outputs)
    )
    return outputs[0]


def _check_two_process_run(rank0: str, work: str) -> None:
    assert 'Distributed training: True' in rank0
    assert 'GPU number: 2' in rank0  # MMEngine's name for the world size
    assert 'Iter(train) [3/3]' in rank0
    assert osp.isfile(osp.join(work, 'iter_3.pth'))


def test_two_nodes_of_one_process(tmp_path):
    data, work = str(tmp_path / 'data'), str(tmp_path / 'work')
    common = dict(
        NNODES='2',
        MASTER_ADDR='127.0.0.1',
        PORT=free_port(),
        PYTHON=sys.executable,
        CUDA_VISIBLE_DEVICES='',
    )
    cmd = ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), TINY_SPML, '1']
    rank0 = _run_together(
        cmd + ['--work-dir', work] + SHORT,
        [tool_env(data, dict(common, NODE_RANK=str(n))) for n in (0, 1)],
        tmp_path,
    )
    _check_two_process_run(rank0, work)


def test_slurm_launcher_on_cpu(tmp_path):
    """What srun starts: one tools/train.py --launcher slurm per task."""
    data, work = str(tmp_path / 'data'), str(tmp_path / 'work')
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'scontrol').write_text('#!/bin/sh\necho 127.0.0.1\n')
    (bin_dir / 'scontrol').chmod(0o755)
    common = dict(
        SLURM_NTASKS='2',
        SLURM_NODELIST='node1',
        MASTER_PORT=free_port(),
        PATH=f'{bin_dir}:{os.environ["PATH"]}',
    )
    cmd = python_tool('train.py', TINY_SPML, '--launcher', 'slurm')
    envs = []
    for rank in (0, 1):
        env = tool_env(
            data, dict(common, SLURM_PROCID=str(rank), SLURM_LOCALID=str(rank))
        )
        for name in ('MASTER_ADDR', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
            env.pop(name, None)  # from Slurm's variables only
        envs.append(env)
    rank0 = _run_together(cmd + ['--work-dir', work] + SHORT, envs, tmp_path)
    _check_two_process_run(rank0, work)
