# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Print the ``--help`` of several scripts or modules as one JSON object.

    python tests/test_docs/help_runner.py tools/train.py -m pytest ...

Each target runs as ``python TARGET --help`` would run it (``__main__``,
``sys.argv``, ``sys.path[0]`` the script's folder), but in a process forked
from this one after the heavy imports, so a dozen scripts cost one
interpreter start instead of one each. Output: ``{target: {"rc": exit
code, "out": stdout + stderr}}``; a ``-m`` target is keyed ``-m NAME``.
"""

import contextlib
import io
import json
import os
import os.path as osp
import runpy
import sys
import traceback
import warnings
from typing import Tuple


def _preimport() -> None:
    """What nearly every tool imports anyway; forks inherit it."""
    warnings.filterwarnings('ignore')
    import mmengine  # noqa: F401
    import mmseg  # noqa: F401
    import torch  # noqa: F401

    import mmseg_spml  # noqa: F401


def _child(target: str) -> Tuple[int, str]:
    module = target[3:] if target.startswith('-m ') else None
    buf = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            if module:
                sys.argv = [module, '--help']
                runpy.run_module(module, run_name='__main__', alter_sys=True)
            else:
                path = osp.abspath(target)
                sys.argv = [path, '--help']
                sys.path[0] = osp.dirname(path)
                runpy.run_path(path, run_name='__main__')
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code)
                code = 1
        except BaseException:  # report, never crash the parent
            traceback.print_exc()
            code = 1
    return code, buf.getvalue()


def run(target: str) -> dict:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            code, out = _child(target)
            data = json.dumps(dict(rc=code, out=out)).encode()
            with os.fdopen(write_fd, 'wb') as f:
                f.write(data)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, 'rb') as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return dict(rc=1, out=f'{target} --help died (status {status})')
    return json.loads(data)


def main(argv) -> int:
    targets, i = [], 0
    while i < len(argv):
        if argv[i] == '-m':
            targets.append(f'-m {argv[i + 1]}')
            i += 2
        else:
            targets.append(argv[i])
            i += 1
    _preimport()
    json.dump({t: run(t) for t in targets}, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
