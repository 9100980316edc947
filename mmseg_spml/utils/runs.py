# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Run the repository's tools in subprocesses and read the results of
finished training runs (for the demo and pipeline drivers)."""

import glob
import json
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Sequence


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


class ToolRunner:
    """Runs ``tools/<name>`` of a repository checkout, logging each command
    with a tag, and trains configs unless their run already finished.

    Args:
        root (str): The repository root (holds ``tools/``).
        tag (str): Printed before every command, e.g. ``'[demo]'``.
    """

    def __init__(self, root: str, tag: str) -> None:
        self.root = root
        self.tag = tag

    def command(self, name: str, *args: str) -> List[str]:
        """The command line of ``tools/<name>`` with ``args``."""
        return [sys.executable, osp.join(self.root, 'tools', name), *args]

    def run(self, cmd: List[str]) -> None:
        """Print and run ``cmd`` from the root; fail if it fails."""
        print(f'{self.tag} {" ".join(cmd)}', flush=True)
        subprocess.run(cmd, check=True, cwd=self.root)

    def train(
        self, config: str, work_dir: str, options: Sequence[str] = ()
    ) -> dict:
        """Train ``config`` with ``tools/train.py`` unless ``work_dir`` holds
        a finished run; its last validation metrics and the training time
        in ``seconds`` (0 when skipped)."""
        try:
            return dict(last_val_metrics(work_dir), seconds=0.0)
        except RuntimeError:
            pass
        cmd = self.command('train.py', config, '--work-dir', work_dir)
        if options:
            cmd += ['--cfg-options', *options]
        start = time.time()
        self.run(cmd)
        return dict(last_val_metrics(work_dir), seconds=time.time() - start)


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint a finished run in ``work_dir`` saved last."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()
