# Copyright (c) mmseg-spml contributors. All rights reserved.
import os
import os.path as osp

import pytest

from tests.helpers.tools import python_tool, run


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
    """The demo driver with the tiny model: trains, then prints the table."""
    opts = [
        'train_cfg.max_iters=2',
        'train_cfg.val_interval=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'train_dataloader.dataset.generator.num_train=4',
        'val_dataloader.dataset.generator.num_train=4',
        'train_dataloader.dataset.generator.num_val=2',
        'val_dataloader.dataset.generator.num_val=2',
    ]
    work = str(tmp_path / 'demo')
    proc = run(
        python_tool('run_demo.py', '--work-dir', work, '--cfg-options', *opts),
        str(tmp_path / 'data'),
    )
    assert '| supervision | mIoU |' in proc.stdout
    assert '| full masks' in proc.stdout
    table = open(osp.join(work, 'demo_results.md')).read()
    assert table.splitlines()[2].startswith('| full masks')
