# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/dist_train.sh across "nodes": two local launches of one process
each, joined through NNODES, NODE_RANK, MASTER_ADDR and PORT (gloo)."""

import os
import os.path as osp
import signal
import subprocess
import sys

import pytest

from tests.helpers.tools import ROOT, free_port, tool_env

pytestmark = pytest.mark.slow

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')
TIMEOUT = 240


def test_two_nodes_of_one_process(tmp_path):
    data, work = str(tmp_path / 'data'), str(tmp_path / 'work')
    common = dict(
        NNODES='2',
        MASTER_ADDR='127.0.0.1',
        PORT=free_port(),
        PYTHON=sys.executable,
        CUDA_VISIBLE_DEVICES='',
    )
    procs, logs = [], []
    for node in (0, 1):
        log = open(tmp_path / f'node{node}.log', 'w+')
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [
                    'bash',
                    osp.join(ROOT, 'tools', 'dist_train.sh'),
                    TINY_SPML,
                    '1',
                    '--work-dir',
                    work,
                    '--cfg-options',
                    'train_cfg.max_iters=3',
                    'train_cfg.val_interval=3',
                ],
                cwd=ROOT,
                env=tool_env(data, dict(common, NODE_RANK=str(node))),
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
    assert codes == [0, 0], '\n'.join(
        f'--- node {i} ---\n{out[-4000:]}' for i, out in enumerate(outputs)
    )
    rank0 = outputs[0]
    assert 'Distributed training: True' in rank0
    assert 'GPU number: 2' in rank0  # MMEngine's name for the world size
    assert 'Iter(train) [3/3]' in rank0
    assert osp.isfile(osp.join(work, 'iter_3.pth'))
