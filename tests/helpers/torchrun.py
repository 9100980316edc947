# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Compare a worker script run as one process with the same script run by
torchrun as two gloo processes (the 1-vs-2-process equivalence tests).

A worker calls :func:`init` first, saves its records with :func:`finish`
and ends with :func:`exit_without_teardown`; the test calls
:func:`run_one_and_two`.
"""

import os
import sys
from typing import Any, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.registry import init_default_scope

from tests.helpers.tools import free_port, run


def init() -> Tuple[int, int]:
    """This worker's rank and the world size; joins the gloo group of a
    torchrun launch and sets MMSeg's registry scope.
    """
    rank = int(os.environ.get('RANK', 0))
    world = int(os.environ.get('WORLD_SIZE', 1))
    if world > 1:
        torch_dist.init_process_group('gloo', rank=rank, world_size=world)
    init_default_scope('mmseg')
    return rank, world


def finish(records: Any, out: str, rank: int, world: int) -> None:
    """Save ``records`` from rank 0, then wait for every rank."""
    if rank == 0:
        torch.save(records, out)
    if world > 1:
        torch_dist.barrier()


def exit_without_teardown() -> None:
    """Leave now: tearing down gloo process groups at interpreter exit
    hangs now and then with this torch build (results are saved by then).
    """
    sys.stdout.flush()
    os._exit(0)


def run_one_and_two(worker: str, tmp_path, *args: str) -> Tuple[Any, Any]:
    """Run ``worker OUT *args`` as one process, then as two (torchrun,
    gloo).

    Returns:
        tuple: The records saved by the 1-process and the 2-process runs.
    """
    single, double = str(tmp_path / 'single.pth'), str(tmp_path / 'ddp.pth')
    data = str(tmp_path / 'data')
    run([sys.executable, worker, single, *args], data, timeout=300)
    torchrun = [sys.executable, '-m', 'torch.distributed.run']
    run(
        torchrun
        + ['--nproc_per_node', '2', '--master_port', free_port()]
        + [worker, double, *args],
        data,
        timeout=300,
    )
    return torch.load(single), torch.load(double)
