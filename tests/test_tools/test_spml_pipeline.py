# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/spml_pipeline.py: stage 1 -> pseudo labels -> stage 2, cached."""

import json
import os.path as osp

import pytest

from tests.helpers.tools import ROOT, python_tool, run

pytestmark = pytest.mark.slow

CONFIGS = osp.join(ROOT, 'tests', 'data', 'configs')


def test_pipeline_runs_every_stage_once(tmp_path):
    data, work = str(tmp_path / 'data'), tmp_path / 'work'
    cmd = python_tool(
        'spml_pipeline.py',
        osp.join(CONFIGS, 'tiny_spml.py'),
        osp.join(CONFIGS, 'tiny_classifier.py'),
        '--work-dir',
        str(work),
        '--compare-raw',
        '--num-classes',
        '7',
        '--rounds',
        '2',
    )
    first = run(cmd, data)
    assert 'final mIoU (val)' in first.stdout
    assert 'Loads checkpoint' in first.stdout  # stage 2 loads stage 1
    result = json.loads((work / 'pipeline_results.json').read_text())
    assert {'stage1', 'pseudo', 'raw', 'stage2', 'round2'} <= set(result)
    assert result['final'] == result['round2']['stage2']
    assert (work / 'pseudo_labels_round2' / 'tags.json').exists()
    assert (
        len(json.loads((work / 'pseudo_labels' / 'tags.json').read_text()))
        == 4
    )
    assert (work / 'pseudo_labels_raw' / 'tags.json').exists()
    # A second run finds every stage done and trains nothing.
    second = run(cmd, data)
    assert 'tools/train.py' not in second.stdout
    assert 'make_pseudo_labels.py' not in second.stdout
