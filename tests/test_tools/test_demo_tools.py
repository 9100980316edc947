# Copyright (c) mmseg-spml contributors. All rights reserved.
import os
import os.path as osp

import pytest

from tests.helpers.tools import ROOT, python_tool, run


def test_make_demo_data_help(tmp_path):
    proc = run(python_tool('misc/make_demo_data.py', '--help'), str(tmp_path))
    assert '--num-train' in proc.stdout and '--out' in proc.stdout


def test_make_demo_data_writes_and_rejects_mismatch(tmp_path):
    out = str(tmp_path / 'scenes')
    args = ['--out', out, '--num-train', '3', '--num-val', '2', '--size', '32']
    run(python_tool('misc/make_demo_data.py', *args), str(tmp_path))
    assert len(os.listdir(osp.join(out, 'JPEGImages'))) == 5
    proc = run(
        python_tool('misc/make_demo_data.py', *args[:-1], '40'),
        str(tmp_path),
        expect_rc=1,
    )
    assert 'error:' in proc.stdout and 'meta.json' in proc.stdout
    proc = run(
        python_tool('misc/make_demo_data.py', '--size', '4'),
        str(tmp_path),
        expect_rc=1,
    )
    assert 'size must be >= 32' in proc.stdout


@pytest.mark.slow
def test_run_demo_prints_table(tmp_path):
    """The demo driver with tiny configs (quick schedule): baseline, SPML
    pipeline on points and on CAM labels of the tags (2 rounds), table."""
    work = str(tmp_path / 'demo')
    configs = osp.join(ROOT, 'tests', 'data', 'configs')
    proc = run(
        python_tool(
            'run_demo.py',
            '--work-dir',
            work,
            '--baseline-config',
            osp.join(configs, 'tiny_demo.py'),
            '--stage1-config',
            osp.join(configs, 'tiny_spml.py'),
            '--stage2-config',
            osp.join(configs, 'tiny_classifier.py'),
            '--cam-config',
            osp.join(configs, 'tiny_cam.py'),
            '--types',
            'points',
            'tags',
        ),
        str(tmp_path / 'data'),
        timeout=900,
    )
    assert '| supervision | stage-1 classifier |' in proc.stdout
    # The points run uses the paper's points weights (all 0.1), the quick
    # schedule 0.3x the tiny configs' 2 iterations.
    assert 'relations.0.loss_weight=0.1' in proc.stdout
    assert 'train_cfg.max_iters=1' in proc.stdout
    table = open(osp.join(work, 'demo_results.md')).read().splitlines()
    assert table[2].startswith('| full masks')
    rows = [
        [c.strip() for c in line.strip('|').split('|')] for line in table[3:]
    ]
    assert [r[0] for r in rows] == [
        'points (SPML)',
        'tags (SPML, CAM labels, 2 rounds)',
    ]
    for cells in rows:
        raw, walked = (float(v) for v in cells[2].split(' / '))
        assert all(
            0 <= float(v) <= 100 for v in (cells[1], raw, walked, cells[3])
        )
    results = osp.join(work, 'spml_tags', 'pipeline_results.json')
    assert 'round2' in open(results).read()
