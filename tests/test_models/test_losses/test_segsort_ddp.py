# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Two processes (gloo, CPU, torchrun) under DDP compute the SegSort loss
and the gradients of one process on the concatenated batch: prototypes,
memory bank, co-occurrence and feature affinity are all global (the worker
is tests/helpers/segsort_ddp_worker.py)."""

import os.path as osp

import pytest
import torch

from tests.helpers.tools import ROOT
from tests.helpers.torchrun import run_one_and_two

pytestmark = pytest.mark.slow

WORKER = osp.join(ROOT, 'tests', 'helpers', 'segsort_ddp_worker.py')


@pytest.mark.parametrize(
    'args', [(), ('--empty-rank',)], ids=['labels-on-both', 'empty-rank']
)
def test_two_processes_equal_one_process_on_the_whole_batch(args, tmp_path):
    # With --empty-rank the second rank has no labelled pixel: its semantic
    # annotation loss must still enter the all-reduce of the first's
    # (before the fix, gloo aborted with a collective mismatch).
    one, two = run_one_and_two(WORKER, tmp_path, *args)
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
