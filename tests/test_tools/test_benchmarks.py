# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The benchmark scripts and the suite run end to end at tiny sizes (their
numbers are not checked: they come from running the scripts themselves)."""

import json

import pytest

from tests.helpers.tools import load_tool, python_tool, run


def test_segsort_loss_benchmark_prints_a_row(capsys):
    tool = load_tool('benchmark/segsort_loss.py')
    args = ['--batch', '2', '--size', '32', '--grid', '2', '--repeats', '1']
    assert tool.main(args + ['--superpixel-size', '8']) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1]
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert cells[:5] == ['cpu', '2', '64', '32', '2x2']
    assert int(cells[5]) > 0  # the memory bank was filled
    assert float(cells[6]) > 0 and float(cells[7]) > 0


def test_train_step_benchmark_prints_both_models_and_the_ratio(capsys):
    tool = load_tool('benchmark/spml_train_step.py')
    args = ['--batch', '2', '--size', '64', '--repeats', '1', '--warmup', '0']
    assert tool.main(args) == 0
    out = capsys.readouterr().out
    assert '| DeepLabV3 CE |' in out and '| SPML |' in out
    assert 'SPML / CE time ratio:' in out


def test_knn_benchmark_writes_json(tmp_path, capsys):
    tool = load_tool('benchmark/knn_search.py')
    out = tmp_path / 'knn.json'
    args = ['--images', '4', '--queries', '10', '--repeats', '2']
    assert tool.main(args + ['--json', str(out)]) == 0
    assert '| cpu | 576 |' in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result['rows'] == 576 and len(result['times']) == 2
    assert result['queries_per_s'] > 0 and result['peak_mib'] > 0
    assert result['env']['threads'] >= 1 and result['env']['torch']


def test_segsort_loss_benchmark_writes_json(tmp_path, capsys):
    tool = load_tool('benchmark/segsort_loss.py')
    out = tmp_path / 'loss.json'
    args = ['--batch', '1', '--size', '16', '--grid', '2', '--repeats', '1']
    assert tool.main(args + ['--json', str(out)]) == 0
    capsys.readouterr()
    result = json.loads(out.read_text())
    assert result['segments'] > 0 and result['memory_protos'] > 0
    assert result['step_s'] > 0 and result['clustering_s'] > 0
    assert result['peak_mib'] >= result['base_mib'] - 1


def test_parse_scalars_skips_warmup(tmp_path):
    suite = load_tool('benchmark/run_suite.py')
    path = tmp_path / 'scalars.json'
    rows = [dict(iter=i, step=i, time=float(i), data_time=0.1) for i in (1, 2)]
    rows.insert(1, dict(lr=0.1, step=1))  # rows without a time are skipped
    rows.append(dict(iter=3, step=3, time=3.0, data_time=0.3, memory=10))
    path.write_text('\n'.join(json.dumps(r) for r in rows))
    stats = suite.parse_scalars(str(path), warmup=1)
    assert stats['times'] == [2.0, 3.0]
    assert stats['data_times'] == [0.1, 0.3]
    assert stats['memory_mib'] == 10


@pytest.mark.slow
def test_run_suite_quick_writes_table_and_plots(tmp_path):
    """The whole suite at tiny sizes, each point in a subprocess."""
    out = tmp_path / 'bench'
    proc = run(
        python_tool('benchmark/run_suite.py', '--out', str(out), '--quick'),
        str(tmp_path / 'data'),
        timeout=600,
    )
    assert 'wrote' in proc.stdout
    table = (out / 'benchmark.md').read_text()
    assert 'torch ' in table and ' threads' in table
    assert 'failed' not in table
    for heading in (
        '## 1. SegSort loss',
        '## 2. Train step',
        '## 3. kNN search',
        '## 4. Training throughput',
    ):
        assert heading in table
    rows = [line for line in table.splitlines() if line.startswith('| ')]
    for sweep in ('batch', 'resolution', 'segments'):
        assert sum(r.startswith(f'| {sweep} |') for r in rows) == 2
    assert any(r.startswith('| DeepLabV3 CE |') for r in rows)
    assert any(r.startswith('| SPML |') for r in rows)
    assert any(r.startswith('| SPML / CE time ratio |') for r in rows)
    assert any(r.startswith('| 1440 |') for r in rows)  # knn: 10 images
    assert any(r.startswith('| spml_efflite0') for r in rows)
    assert (out / 'loss_scaling.png').stat().st_size > 0
    assert (out / 'knn_throughput.png').stat().st_size > 0
    assert (out / 'train_throughput.png').stat().st_size > 0
    assert not list(out.glob('*.tmp')) and not list(out.glob('.*.tmp'))
    results = json.loads((out / 'results.json').read_text())
    assert results['train']['images_per_s'] > 0
