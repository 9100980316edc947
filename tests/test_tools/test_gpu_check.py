# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/benchmark/gpu_check.py cannot rot between GPU sessions: its CPU
dry run runs every stage (versions, the CUDA-marked tests, fp32 and AMP
training of the demo config, the loss and train-step benchmarks) and
writes the record."""

import json
import os.path as osp
import sys

import pytest

from tests.helpers.tools import ROOT, run

pytestmark = pytest.mark.slow


def test_dry_run_runs_every_stage_and_writes_the_record(tmp_path):
    out = tmp_path / 'record'
    script = osp.join(ROOT, 'tools', 'benchmark', 'gpu_check.py')
    run(
        [sys.executable, script, str(out), '--dry-run'],
        str(tmp_path),
        timeout=600,
    )
    record = json.loads((out / 'gpu_check.json').read_text())
    stages = record['stages']
    assert record['dry_run'] is True
    assert set(stages) == {
        'install',
        'versions',
        'cuda tests',
        'train fp32',
        'train amp (bf16 on CPU)',
        'SegSort loss, paper scale',
        'SPML / CE train step',
    }
    assert all(s['ok'] for s in stages.values()), stages
    # The CUDA tests were collected, and skipped on this CPU machine.
    assert 'skipped' in stages['cuda tests']['tail']
    for name in ('train fp32', 'train amp (bf16 on CPU)'):
        assert stages[name]['numbers']['finite'] is True
        assert stages[name]['numbers']['logged'] == 2
    assert stages['SPML / CE train step']['numbers']['ratio'] > 0
    table = (out / 'gpu_check.md').read_text()
    assert '| SegSort loss, paper scale | ok |' in table
    assert 'mmseg 1.2.2' in table
