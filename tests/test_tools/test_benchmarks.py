# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The benchmark scripts and the suite run end to end at tiny sizes (their
numbers are not checked: they come from running the scripts themselves)."""

import json
import os.path as osp

import pytest

from mmseg_spml.models.losses.segsort.relations import base
from tests.helpers.tools import ROOT, load_tool, python_tool, run

DEMO_CONFIG = 'spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py'


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


def test_likelihood_benchmark_compares_both_implementations(tmp_path, capsys):
    tool = load_tool('benchmark/likelihood.py')
    out = tmp_path / 'likelihood.json'
    args = ['--batches', '1', '--size', '32', '--grid', '2', '--repeats', '2']
    args += ['--superpixel-size', '8', '--profile', '--json', str(out)]
    assert tool.main(args) == 0
    assert '| 1 |' in capsys.readouterr().out
    (row,) = json.loads(out.read_text())['rows']
    assert set(row['losses']['v1']) == {
        'loss_sem_ann', 'loss_sem_occ', 'loss_img_sim'
    }  # fmt: skip
    assert row['max_rel_value_error'] < 1e-4
    assert row['max_rel_grad_error'] < 1e-4
    assert all(len(t) == 2 for t in row['times'].values())
    assert row['peak_mib']['v1'] > 0 and row['peak_mib']['current'] > 0
    assert 0 < row['profile']['mm_share_of_likelihood'] <= 1


def test_likelihood_baseline_is_swapped_in_and_out():
    tool = load_tool('benchmark/likelihood_v1.py')
    current = base.pixel_segment_nll
    with tool.use_likelihood('v1'):
        assert base.pixel_segment_nll is tool.pixel_segment_nll
    assert base.pixel_segment_nll is current
    with pytest.raises(ValueError, match="'current' or 'v1'"):
        with tool.use_likelihood('v2'):
            pass


def test_crf_benchmark_times_each_backend(tmp_path, capsys):
    tool = load_tool('benchmark/crf.py')
    out = tmp_path / 'crf.json'
    args = ['--size', '8', '--classes', '3', '--repeats', '1']
    assert tool.main(args + ['--json', str(out)]) == 0
    table = capsys.readouterr().out
    assert '| torch | 8x8 | 3 |' in table and '| auto | 8x8 | 3 |' in table
    result = json.loads(out.read_text())
    assert result['seconds']['torch'] > 0
    if result['pydensecrf']:
        assert result['seconds']['pydensecrf'] > 0


def test_parse_scalars_skips_warmup(tmp_path):
    suite = load_tool('benchmark/_suite_runs.py')
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
    for label in (
        '1 process',
        '1 process, superpixels computed in the workers',
        '2 processes, SyncBN as SPMLSyncBN',
    ):
        assert any(r.startswith(f'| {label} |') for r in rows), label
    assert (out / 'loss_scaling.png').stat().st_size > 0
    assert (out / 'knn_throughput.png').stat().st_size > 0
    assert (out / 'train_throughput.png').stat().st_size > 0
    assert not list(out.glob('*.tmp')) and not list(out.glob('.*.tmp'))
    results = json.loads((out / 'results.json').read_text())
    # 1 process (superpixels loaded, computed); 2 with SyncBN and BN.
    assert len(results['train']) == 4
    workers = results['train'][
        '1 process, superpixels computed in the workers'
    ]
    assert workers['workers_superpixels']
    assert all(r['images_per_s'] > 0 for r in results['train'].values())


def test_workers_superpixel_options_replace_the_loaded_superpixels():
    tool = load_tool('benchmark/_suite_runs.py')
    demo = load_tool('benchmark/run_suite.py').DEMO_CONFIG
    options = tool.workers_superpixel_options(demo)
    assert options == [
        'train_dataloader.dataset.superpixels=None',
        'train_dataloader.dataset.pipeline.2.type=ComputeSuperpixels',
        'train_dataloader.dataset.pipeline.2.method=felzenszwalb',
    ]
    base = osp.join(ROOT, 'configs', 'baselines')
    with pytest.raises(ValueError, match='no LoadSuperpixels'):
        tool.workers_superpixel_options(
            osp.join(
                base, 'deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py'
            )
        )


def test_dist_consistency_tabulates_seeds_and_settings(tmp_path, capsys):
    """Runs mocked: the settings, the global batch split and the table."""
    tool = load_tool('benchmark/dist_consistency.py')
    calls = []
    miou = {(1, 0): 30.0, (1, 1): 34.0, (2, 0): 29.0, (2, 1): 31.0}

    def fake_train(args, work_dir, seed, procs, batch, extra):
        calls.append((procs, batch, tuple(extra)))
        bn = 'model.backbone.norm_cfg.type=BN' in extra
        return dict(mIoU=20.0 + seed if bn else miou[procs, seed])

    tool.train = fake_train
    out = tmp_path / 'out'
    cfg = osp.join(ROOT, 'configs', 'spml', DEMO_CONFIG)
    assert (
        tool.main([cfg, '--out', str(out), '--seeds', '0', '1', '--bn']) == 0
    )
    assert [c[:2] for c in calls] == [(1, 8)] * 2 + [(2, 8)] * 4
    assert calls[-1][2] == (
        'model.backbone.norm_cfg.type=BN',
        'model.decode_head.norm_cfg.type=BN',
    )
    table = (out / 'consistency.md').read_text()
    assert '| seed | 1 process | 2 processes | 2 processes, BN |' in table
    assert '| 1 | 34.00 | 31.00 | 21.00 |' in table
    assert '| mean | 32.00 | 30.00 | 20.50 |' in table
    assert '| std | 2.83 | 1.41 | 0.71 |' in table  # sample std
    results = json.loads((out / 'consistency.json').read_text())
    assert results['2 processes'] == {'0': 29.0, '1': 31.0}
    # A global batch of 8 cannot be split over 3 processes.
    assert tool.main([cfg, '--out', str(out), '--procs', '3']) == 1
    assert 'cannot be split over 3 processes' in capsys.readouterr().out


@pytest.mark.slow
def test_dist_consistency_trains_one_and_two_processes(tmp_path):
    out = tmp_path / 'out'
    run(
        python_tool(
            'benchmark/dist_consistency.py',
            'tests/data/configs/tiny_spml.py',
            '--out',
            str(out),
            '--seeds',
            '0',
        ),
        str(tmp_path / 'data'),
        timeout=600,
    )
    results = json.loads((out / 'consistency.json').read_text())
    assert set(results) == {'1 process', '2 processes'}
    for name, dirname in (('1 process', 'p1'), ('2 processes', 'p2')):
        assert 0 <= results[name]['0'] <= 100
        assert (out / f'{dirname}_seed0' / 'iter_2.pth').is_file()


def test_seeds_tool_tabulates_mean_and_std(tmp_path, capsys):
    """Training mocked: one run per seed with the seed option, the table
    and the JSON summary (sample standard deviation)."""
    tool = load_tool('benchmark/seeds.py')
    calls = []

    def fake_train(config, work_dir, options):
        calls.append((osp.basename(work_dir), list(options)))
        seed = int(options[-1].rsplit('=', 1)[1])
        return dict(mIoU=60.0 + 2 * seed, mAcc=70.0, aAcc=90.0 + seed)

    tool.TOOLS.train = fake_train
    out = tmp_path / 'out'
    cfg = osp.join(ROOT, 'configs', 'spml', DEMO_CONFIG)
    argv = [cfg, '--out', str(out), '--seeds', '0', '1', '2']
    assert tool.main(argv + ['--cfg-options', 'a.b=1']) == 0
    assert [c[0] for c in calls] == ['seed0', 'seed1', 'seed2']
    assert calls[1][1][-2:] == ['a.b=1', 'randomness.seed=1']
    table = (out / 'seeds.md').read_text()
    assert '| 2 | 64.00 | 70.00 | 92.00 |' in table
    assert '| mean | 62.00 | 70.00 | 91.00 |' in table
    assert '| std | 2.00 | 0.00 | 1.00 |' in table
    summary = json.loads((out / 'seeds.json').read_text())['summary']
    assert summary['mIoU'] == {'mean': 62.0, 'std': 2.0}
    assert tool.main([cfg, '--out', str(out), '--seeds', '1', '1']) == 1
    assert 'repeats a seed' in capsys.readouterr().out


@pytest.mark.slow
def test_seeds_tool_trains_each_seed(tmp_path):
    out = tmp_path / 'out'
    run(
        python_tool(
            'benchmark/seeds.py',
            'tests/data/configs/tiny_demo.py',
            '--out',
            str(out),
            '--seeds',
            '0',
            '1',
        ),
        str(tmp_path / 'data'),
        timeout=600,
    )
    seeds = json.loads((out / 'seeds.json').read_text())['seeds']
    assert set(seeds) == {'0', '1'}
    assert all(0 <= s['mIoU'] <= 100 for s in seeds.values())
    assert (out / 'seed1' / 'iter_6.pth').is_file()
