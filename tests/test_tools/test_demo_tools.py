# Copyright (c) mmseg-spml contributors. All rights reserved.
import json
import os
import os.path as osp

import pytest

from mmseg_spml.experiments import format_table
from tests.helpers.tools import ROOT, load_tool, python_tool, run


def test_make_demo_data_help(tmp_path):
    proc = run(python_tool('misc/make_demo_data.py', '--help'), str(tmp_path))
    assert '--num-train' in proc.stdout and '--out' in proc.stdout


def test_make_demo_data_writes_and_rejects_mismatch(tmp_path):
    out = str(tmp_path / 'scenes')
    args = ['--out', out, '--num-train', '3', '--num-val', '2', '--size', '32']
    proc = run(python_tool('misc/make_demo_data.py', *args), str(tmp_path))
    assert len(os.listdir(osp.join(out, 'JPEGImages'))) == 5
    assert '5/5' in proc.stdout  # the progress bar
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
    next to its baseline (one seed: the table over seeds is tested on its
    own below)."""
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
    # Tag CAMs at the CAM config's views, box CAMs (and the validation of
    # their CAM classifier) at IRN's scales.
    irn = 'model.test_cfg.scales=[1.0,0.5,1.5,2.0]'
    for tool in ('train.py', 'make_cams.py'):
        lines = [
            line
            for line in proc.stdout.splitlines()
            if tool in line and 'tiny_cam.py' in line
        ]
        assert len(lines) == 2
        assert 'cam_boxes' in lines[0] and irn in lines[0]
        assert 'cam_tags' in lines[1] and 'test_cfg' not in lines[1]
    # Tag labels: IRN's band refined by its CRF on the demo's images.
    masks = [
        line
        for line in proc.stdout.splitlines()
        if 'make_pseudo_masks.py' in line and 'cam_tags' in line
    ]
    assert len(masks) == 1
    assert '--method band --crf' in masks[0] and 'JPEGImages' in masks[0]
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
        for cell in cells[2:6]:
            assert 0 <= float(cell) <= 100
    results = work / 'seed1' / 'spml_tags' / 'pipeline_results.json'
    assert 'round2' in results.read_text()
    assert (work / 'seed1' / 'cam_boxes' / 'labels' / 'tags.json').is_file()


def test_run_demo_table_over_seeds():
    """Mean ± sample std over seeds in every cell, ratio to each seed's
    own full supervision; a row over the seeds that have it."""

    def seed(full, stage1, final, baseline, kind='points'):
        return {
            'full masks': dict(final=dict(mIoU=full)),
            kind: dict(
                stage1=dict(mIoU=stage1),
                pseudo=dict(mIoU=50.0),
                final=dict(mIoU=final),
                baseline=dict(mIoU=baseline),
            ),
        }

    per_seed = {
        0: seed(60.0, 20.0, 30.0, 10.0),
        1: seed(40.0, 30.0, 30.0, 14.0),
        2: seed(50.0, 10.0, 40.0, 12.0, kind='boxes'),
        3: {},  # nothing finished
    }
    table = format_table(per_seed, ['points', 'boxes', 'tags'])
    table = table.splitlines()
    assert table[0].endswith('| final / full | seeds |')
    assert table[2] == (
        '| full masks | CE | | | | 50.00 ± 10.00 | 100 % | 0, 1, 2 |'
    )
    # Ratios 50 % and 75 %: 62.50 ± 17.68.
    assert table[3] == (
        '| points | partial CE, points | 12.00 ± 2.83 | 25.00 ± 7.07 | '
        '50.00 ± 0.00 | 30.00 ± 0.00 | 62.50 ± 17.68 % | 0, 1 |'
    )
    assert table[4] == (
        '| boxes | CE, filled boxes | 12.00 | 10.00 | 50.00 | 40.00 | '
        '80.00 % | 2 |'
    )
    assert len(table) == 5  # no seed has tags


def test_run_demo_report_reads_finished_runs_only(tmp_path, capsys):
    """--report trains nothing: a seed without full supervision adds no
    row; a type without a finished pipeline is left out."""
    tool = load_tool('run_demo.py')

    def finished(work_dir, miou):
        scalars = work_dir / 'run' / 'vis_data' / 'scalars.json'
        scalars.parent.mkdir(parents=True)
        scalars.write_text(json.dumps(dict(mIoU=miou, step=10)) + '\n')

    work = tmp_path / 'demo'
    finished(work / 'seed0' / 'full_masks', 60.0)
    finished(work / 'seed0' / 'baseline_points', 30.0)
    results = work / 'seed0' / 'spml_points' / 'pipeline_results.json'
    results.parent.mkdir(parents=True)
    rows = {k: dict(mIoU=v) for k, v in (('stage1', 40), ('final', 45))}
    results.write_text(json.dumps(dict(rows, pseudo=None)))
    finished(work / 'seed1' / 'baseline_points', 20.0)  # no full masks
    argv = ['--work-dir', str(work), '--report', '--seeds', '0', '1']
    assert tool.main(argv + ['--types', 'points', 'tags']) == 0
    table = (work / 'demo_results.md').read_text().splitlines()
    assert table[2] == '| full masks | CE | | | | 60.00 | 100 % | 0 |'
    assert table[3] == (
        '| points | partial CE, points | 30.00 | 40.00 |  | 45.00 | '
        '75.00 % | 0 |'
    )
    assert len(table) == 4
    assert not any(p.name == 'seed1' and (p / 'full_masks').exists()
                   for p in work.iterdir())  # fmt: skip


@pytest.mark.slow
def test_run_pmm_demo_prints_its_tables(tmp_path):
    """The PMM demo with tiny configs: CAM stage, six labelling methods
    scored, CE and PUF trained on the cvs+ppmg masks."""
    work = tmp_path / 'pmm'
    configs = osp.join(ROOT, 'tests', 'data', 'configs')
    tiny_full = osp.join(configs, 'tiny_full.py')
    proc = run(
        python_tool(
            'run_pmm_demo.py',
            '--work-dir',
            str(work),
            '--cam-config',
            osp.join(configs, 'tiny_cam.py'),
            '--ce-config',
            tiny_full,
            '--puf-config',
            tiny_full,
        ),
        str(tmp_path / 'data'),
        timeout=900,
    )
    assert '--method band --crf' in proc.stdout
    table = (work / 'pmm_demo_results.md').read_text().splitlines()
    methods = [line.split('|')[1].strip() for line in table[6:12]]
    assert methods == [
        'band',
        'band+crf',
        'threshold',
        'cvs',
        'ppmg',
        'cvs+ppmg',
    ]
    masks = str(work / 'pseudo_cvs_ppmg')
    assert f'data_prefix.seg_map_path={masks}' in proc.stdout
    assert [line.split('|')[1].strip() for line in table[-2:]] == [
        'CE',
        'PUF',
    ]
