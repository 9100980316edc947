# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Helpers shared by the benchmark scripts: peak memory, environment
notes, medians and atomic JSON/text writers.

Peak memory is per process: on CUDA the allocator's peak since the last
:func:`reset_peak`; on CPU the peak resident set size (``VmHWM`` on
Linux, else ``ru_maxrss``), which only grows, so a script measures one
point per process (as ``run_suite.py`` does, in a fresh subprocess per
point) and reports the resident size before its timed loop as well, for
the increase.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import sys
from typing import Any, Dict, Sequence

import torch

from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import atomic_file


def sync(device: str) -> None:
    """Wait for the device's queued work (CUDA), so timers see it."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def reset_peak(device: str) -> None:
    """Start a new peak-memory window (CUDA only; RSS peaks cannot be
    reset, see the module docstring)."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def current_mib(device: str) -> float:
    """Memory in use now: allocated CUDA memory or the resident set size.

    Args:
        device (str): ``cpu`` or ``cuda[:i]``.

    Returns:
        float: MiB.
    """
    if device.startswith('cuda'):
        return torch.cuda.memory_allocated() / 2**20
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf('SC_PAGE_SIZE') / 2**20
    except (OSError, ValueError):  # not Linux: fall back on the peak
        return peak_mib(device)


def peak_mib(device: str) -> float:
    """Peak memory of this process: CUDA allocator peak since the last
    :func:`reset_peak`, or peak resident set size since it started.

    Args:
        device (str): ``cpu`` or ``cuda[:i]``.

    Returns:
        float: MiB.
    """
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    # VmHWM is this program's own peak; ru_maxrss keeps the peak of the
    # process before its exec (a benchmark launched from a large parent
    # would report the parent's).
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == 'darwin' else rss / 1024


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence."""
    return float(statistics.median(values))


def environment(device: str) -> Dict[str, Any]:
    """What the numbers depend on: device name, torch version, threads.

    Args:
        device (str): ``cpu`` or ``cuda[:i]``.

    Returns:
        dict: ``device``, ``device_name``, ``torch``, ``threads``,
        ``cpu_count`` and ``python``.
    """
    if device.startswith('cuda'):
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        name = platform.processor() or platform.machine()
    return dict(
        device=device,
        device_name=name,
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        cpu_count=os.cpu_count(),
        python=platform.python_version(),
    )


def write_json(path: str, obj: Any) -> None:
    """Write ``obj`` as JSON, atomically (temporary file + rename)."""
    write_text(path, json.dumps(obj, indent=1, sort_keys=True) + '\n')


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path``, atomically (temporary file + rename)."""
    with atomic_file(path, 'w') as f:
        f.write(text)


def benchmark_parser(doc: str, repeats: int) -> argparse.ArgumentParser:
    """The argument parser of a benchmark script: description and examples
    from its module docstring ``doc``, plus the options every script has
    (``--repeats``, ``--device``, ``--seed``, ``--json``)."""
    parser = doc_parser(doc)
    parser.add_argument('--repeats', type=int, default=repeats)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--json', metavar='FILE', help='also write the results to FILE'
    )
    return parser


def result(args: argparse.Namespace, **fields: Any) -> Dict[str, Any]:
    """A measurement's record: the arguments, ``fields``, the peak memory
    of this process (``peak_mib``) and the environment (``env``)."""
    return dict(
        vars(args),
        **fields,
        peak_mib=peak_mib(args.device),
        env=environment(args.device),
    )
