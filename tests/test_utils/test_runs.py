# Copyright (c) mmseg-spml contributors. All rights reserved.
"""mmseg_spml.utils.runs: schedule scaling, training commands and reading
finished runs."""

import json
import os
import sys

import pytest

from mmseg_spml.utils.runs import (
    ToolRunner,
    finished_metrics,
    format_mean_std,
    last_val_metrics,
    mean_std,
    schedule_options,
    train_command,
)

CONFIG = """
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=500)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=250))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50),
    dict(type='PolyLR', begin=50, end=1000),
]
"""


def test_schedule_options_scale_iterations_intervals_and_schedulers(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG)
    assert schedule_options(str(config), 0.3) == [
        'train_cfg.max_iters=300',
        'train_cfg.val_interval=300',
        'default_hooks.checkpoint.interval=75',
        'param_scheduler.0.end=15',
        'param_scheduler.1.begin=15',
        'param_scheduler.1.end=300',
    ]
    # Never below one iteration.
    assert schedule_options(str(config), 1e-6)[0] == 'train_cfg.max_iters=1'


def test_schedule_options_single_scheduler_dict(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(
        'train_cfg = dict(max_iters=10)\n'
        "param_scheduler = dict(type='PolyLR', begin=0, end=10)\n"
    )
    assert schedule_options(str(config), 2)[-1] == 'param_scheduler.end=20'


def test_schedule_options_errors(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text("train_cfg = dict(type='EpochBasedTrainLoop')\n")
    with pytest.raises(ValueError, match='max_iters is not set'):
        schedule_options(str(config), 0.5)
    with pytest.raises(ValueError, match='must be > 0'):
        schedule_options(str(config), 0)


def test_last_val_metrics_reads_newest_validation(tmp_path):
    for stamp, miou in (('20260101_000000', 10.0), ('20260102_000000', 20.0)):
        folder = tmp_path / stamp / 'vis_data'
        os.makedirs(folder)
        records = [dict(loss=1.0, step=1), dict(mIoU=miou, step=2)]
        (folder / 'scalars.json').write_text(
            '\n'.join(json.dumps(r) for r in records)
        )
    assert last_val_metrics(str(tmp_path))['mIoU'] == 20.0
    with pytest.raises(RuntimeError, match='no validation mIoU'):
        last_val_metrics(str(tmp_path / 'missing'))
    assert finished_metrics(str(tmp_path))['mIoU'] == 20.0
    assert finished_metrics(str(tmp_path / 'missing')) is None


def test_tool_runner_trains_resumes_and_skips(tmp_path):
    """A fresh work dir trains, an interrupted one resumes, a finished one
    is not trained again."""
    calls = []

    class Runner(ToolRunner):
        def run(self, cmd, env=None):
            calls.append(cmd)
            work_dir = cmd[cmd.index('--work-dir') + 1]
            folder = os.path.join(work_dir, '20260101_000000', 'vis_data')
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, 'scalars.json'), 'w') as f:
                f.write(json.dumps(dict(mIoU=5.0)))

    runner = Runner('/repo/tools', '[test]')
    work = tmp_path / 'run'
    os.makedirs(work)
    (work / 'last_checkpoint').write_text(str(work / 'iter_500.pth'))
    assert runner.train('cfg.py', str(work), ['a=1'])['mIoU'] == 5.0
    assert calls == [
        [sys.executable, '/repo/tools/train.py', 'cfg.py']
        + ['--work-dir', str(work), '--resume', '--cfg-options', 'a=1']
    ]
    assert runner.train('cfg.py', str(work))['seconds'] == 0.0
    assert len(calls) == 1
    runner.train('cfg.py', str(tmp_path / 'fresh'))
    assert '--resume' not in calls[-1]


def test_train_command_one_and_several_processes():
    cmd, env = train_command('/repo/tools', 'cfg.py')
    assert cmd == [sys.executable, '/repo/tools/train.py', 'cfg.py']
    assert env == {}
    cmd, env = train_command('/repo/tools', 'cfg.py', 4)
    assert cmd == ['bash', '/repo/tools/dist_train.sh', 'cfg.py', '4']
    assert env['PYTHON'] == sys.executable
    assert 1024 <= int(env['PORT']) <= 65535


def test_mean_std_is_the_sample_standard_deviation():
    assert mean_std([1.0, 2.0, 6.0]) == (3.0, pytest.approx(2.6457513))
    assert mean_std([4.0]) == (4.0, 0.0)
    assert format_mean_std([60.0, 64.0]) == '62.00 ± 2.83'
    assert format_mean_std([61.234]) == '61.23'
    with pytest.raises(ValueError, match='at least one'):
        mean_std([])
