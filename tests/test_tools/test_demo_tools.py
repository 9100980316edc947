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
    """The demo driver with tiny configs: full supervision, then the box
    setting (CAM stage on the box tags, CAM-in-box labels, box constraint)
    and the tag setting (CAM stage, band labels, CAM seeds, 2 rounds), each
    next to its baseline, over two seeds."""
    work = tmp_path / 'demo'
    configs = osp.join(ROOT, 'tests', 'data', 'configs')
    proc = run(
        python_tool(
            'run_demo.py',
            '--work-dir',
            str(work),
            '--baseline-config',
            osp.join(configs, 'tiny_full.py'),
            '--weak-baseline-config',
            osp.join(configs, 'tiny_pce.py'),
            '--stage1-config',
            osp.join(configs, 'tiny_spml.py'),
            '--stage2-config',
            osp.join(configs, 'tiny_classifier.py'),
            '--cam-config',
            osp.join(configs, 'tiny_cam.py'),
            '--types',
            'boxes',
            'tags',
            '--seeds',
            '0',
            '1',
        ),
        str(tmp_path / 'data'),
        timeout=1200,
    )
    # The box run uses the paper's box weights and the box constraint.
    assert 'relations.0.loss_weight=0.3' in proc.stdout
    assert 'pseudo_label_cfg.boxes=' in proc.stdout
    assert 'pseudo_label_cfg.cams=' in proc.stdout
    assert 'weak.box_labels=filled' in proc.stdout
    table = (work / 'demo_results.md').read_text().splitlines()
    assert table[0].startswith('| supervision | baseline |')
    rows = [
        [c.strip() for c in line.strip('|').split('|')] for line in table[2:]
    ]
    assert [r[0] for r in rows] == [
        'full masks',
        'boxes',
        'tags (CAM labels, 2 rounds)',
    ]
    assert [r[1] for r in rows[1:]] == [
        'CE, filled boxes',
        'partial CE, CAM labels',
    ]
    for cells in rows[1:]:
        for cell in cells[2:6]:  # mean ± std over the two seeds
            mean, std = (float(v) for v in cell.split(' ± '))
            assert 0 <= mean <= 100 and std >= 0
    for seed in (0, 1):
        results = work / f'seed{seed}' / 'spml_tags' / 'pipeline_results.json'
        assert 'round2' in results.read_text()
        labels = work / f'seed{seed}' / 'cam_boxes' / 'labels'
        assert (labels / 'tags.json').is_file()
