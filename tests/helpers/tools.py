# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Run the command-line tools of the repository in subprocesses."""

import os
import os.path as osp
import subprocess
import sys
from typing import List, Optional

from mmseg_spml.utils.runs import free_port  # noqa: F401 (for the tests)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_demo.py')


def tool_env(data_dir: str, extra: Optional[dict] = None) -> dict:
    """Environment for a tool: repo on PYTHONPATH (for tests.helpers),
    demo data cached in ``data_dir``, CPU only."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in [env.get('PYTHONPATH')] if p]
    )
    env['MMSEG_SPML_DATA'] = data_dir
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['OMP_NUM_THREADS'] = '1'
    env.update(extra or {})
    return env


def run(
    cmd: List[str],
    data_dir: str,
    expect_rc: int = 0,
    timeout: float = 600,
    env: Optional[dict] = None,
) -> subprocess.CompletedProcess:
    """Run ``cmd`` from the repository root; fail with its output if the
    exit code differs from ``expect_rc``."""
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=tool_env(data_dir, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == expect_rc, (
        f'{" ".join(cmd)} exited with {proc.returncode}, expected '
        f'{expect_rc}:\n{proc.stdout[-6000:]}'
    )
    return proc


def python_tool(name: str, *args: str) -> List[str]:
    return [sys.executable, osp.join(ROOT, 'tools', name), *args]


def load_tool(relpath: str):
    """Import a script (or a helper module) under tools/ as a module, to
    call its ``main(argv)`` or functions in-process (registered in
    sys.modules so multiprocessing can pickle its worker functions).
    Loaded once per process."""
    import importlib.util

    name = osp.splitext(relpath.replace('/', '_'))[0]
    if name in sys.modules:  # one module object, or pickling breaks
        return sys.modules[name]
    path = osp.join(ROOT, 'tools', relpath)
    # As for a script, its folder's modules import (tools/benchmark's
    # _common.py); appended, so that they shadow nothing.
    if osp.dirname(path) not in sys.path:
        sys.path.append(osp.dirname(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
