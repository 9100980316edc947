# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Two processes (gloo, CPU, torchrun) under DDP compute the SegSort loss
and the gradients of one process on the concatenated batch: prototypes,
memory bank, co-occurrence and feature affinity are all global (the worker
is tests/helpers/segsort_ddp_worker.py)."""

import os.path as osp
import sys

import pytest
import torch

from tests.helpers.tools import ROOT, free_port, run

pytestmark = pytest.mark.slow

WORKER = osp.join(ROOT, 'tests', 'helpers', 'segsort_ddp_worker.py')


def test_two_processes_equal_one_process_on_the_whole_batch(tmp_path):
    single, double = str(tmp_path / 'single.pth'), str(tmp_path / 'ddp.pth')
    data = str(tmp_path / 'data')
    run([sys.executable, WORKER, single], data, timeout=300)
    torchrun = [sys.executable, '-m', 'torch.distributed.run']
    run(
        torchrun
        + ['--nproc_per_node', '2', '--master_port', free_port()]
        + [WORKER, double],
        data,
        timeout=300,
    )
    one, two = torch.load(single), torch.load(double)
    assert len(one) == len(two) == 3
    for step, (a, b) in enumerate(zip(one, two)):
        assert a['memory'] == b['memory'], step  # global memory bank
        assert (a['losses'] > 0).all(), step  # every relation contributes
        torch.testing.assert_close(
            b['losses'], a['losses'], rtol=1e-5, atol=1e-6
        )
        torch.testing.assert_close(
            b['grad_w'], a['grad_w'], rtol=1e-4, atol=1e-6
        )
        torch.testing.assert_close(
            b['grad_b'], a['grad_b'], rtol=1e-4, atol=1e-6
        )
