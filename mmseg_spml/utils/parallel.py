# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Map a function over tasks with a progress bar, optionally in processes."""

from typing import Callable, List, Sequence

from mmengine.utils import track_parallel_progress, track_progress


def map_with_progress(func: Callable, tasks: Sequence, nproc: int = 1) -> List:
    """``[func(t) for t in tasks]`` with a progress bar.

    Args:
        func (Callable): A picklable (module-level) function of one task.
        tasks (Sequence): The tasks.
        nproc (int): Worker processes; 1 runs in this process. Default: 1.

    Returns:
        list: The results, in task order whatever ``nproc``.
    """
    tasks = list(tasks)
    if not tasks:
        return []
    if nproc > 1:
        chunksize = max(1, len(tasks) // (8 * nproc))
        return track_parallel_progress(
            func, tasks, nproc, chunksize=chunksize, keep_order=True
        )
    return track_progress(func, tasks)
