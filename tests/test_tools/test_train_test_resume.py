# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/train.py, tools/test.py and checkpoint loading under torch >= 2.6:
an interrupted run resumes where its last checkpoint left it."""

import json
import os.path as osp
import signal
import sys

import pytest
import torch

import mmseg_spml  # noqa: F401  (checkpoint allow-list for torch.load)
from tests.helpers.hooks import tensor_digest
from tests.helpers.tools import TINY_CONFIG, python_tool, run

pytestmark = pytest.mark.slow

CONFIGS = osp.dirname(TINY_CONFIG)


@pytest.fixture(scope='module')
def interrupted_and_resumed(tmp_path_factory):
    """Train the tiny config, SIGKILL it during iteration 5, resume."""
    tmp = tmp_path_factory.mktemp('resume')
    data, work = str(tmp / 'data'), str(tmp / 'work')
    killed = run(
        python_tool(
            'train.py',
            osp.join(CONFIGS, 'tiny_demo_killed_at_5.py'),
            '--work-dir',
            work,
        ),
        data,
        expect_rc=-signal.SIGKILL,
    )
    resumed = run(
        python_tool(
            'train.py',
            osp.join(CONFIGS, 'tiny_demo_record_start.py'),
            '--work-dir',
            work,
            '--resume',
        ),
        data,
    )
    return dict(data=data, work=work, killed=killed, resumed=resumed)


def test_kill_left_iteration_4_checkpoint(interrupted_and_resumed):
    log = interrupted_and_resumed['killed'].stdout
    assert 'Saving checkpoint at 4 iterations' in log
    assert 'Saving checkpoint at 6 iterations' not in log


def test_resume_continues_counter_and_weights(interrupted_and_resumed):
    work = interrupted_and_resumed['work']
    log = interrupted_and_resumed['resumed'].stdout
    assert 'Resumed from checkpoint' in log or 'resumed' in log.lower()
    start = json.load(open(osp.join(work, 'start_state.json')))
    assert start['iter'] == 4
    saved = torch.load(osp.join(work, 'iter_4.pth'), map_location='cpu')
    assert saved['meta']['iter'] == 4
    expected = {k: tensor_digest(v) for k, v in saved['state_dict'].items()}
    assert start['state'] == expected
    final = torch.load(osp.join(work, 'iter_6.pth'), map_location='cpu')
    assert final['meta']['iter'] == 6
    # Training went on: the weights moved after the resume.
    assert any(
        not torch.equal(final['state_dict'][k], saved['state_dict'][k])
        for k in expected
    )
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [6/6]' in log
    assert 'Iter(train) [1/6]' not in log


def test_tools_test_loads_checkpoint(interrupted_and_resumed):
    work = interrupted_and_resumed['work']
    proc = run(
        python_tool(
            'test.py',
            TINY_CONFIG,
            osp.join(work, 'iter_6.pth'),
            '--work-dir',
            osp.join(work, 'test'),
        ),
        interrupted_and_resumed['data'],
    )
    assert 'mIoU' in proc.stdout


def test_load_from_checkpoint(interrupted_and_resumed, tmp_path):
    work = interrupted_and_resumed['work']
    proc = run(
        python_tool(
            'train.py',
            TINY_CONFIG,
            '--work-dir',
            str(tmp_path),
            '--cfg-options',
            f'load_from={osp.join(work, "iter_6.pth")}',
            'train_cfg.max_iters=1',
            'train_cfg.val_interval=1',
        ),
        interrupted_and_resumed['data'],
    )
    assert 'Load checkpoint from' in proc.stdout


def test_init_model_loads_checkpoint(interrupted_and_resumed):
    """`mmseg.apis.init_model` in a fresh process: the config's
    custom_imports registers the allow-list before the checkpoint loads."""
    work = interrupted_and_resumed['work']
    code = (
        'import sys, torch\n'
        'from mmseg.apis import init_model\n'
        'model = init_model(sys.argv[1], sys.argv[2], device="cpu")\n'
        'assert model.dataset_meta["classes"][0] == "background"\n'
        'print("classes", len(model.dataset_meta["classes"]))\n'
    )
    proc = run(
        [
            sys.executable,
            '-c',
            code,
            TINY_CONFIG,
            osp.join(work, 'iter_6.pth'),
        ],
        interrupted_and_resumed['data'],
    )
    assert 'classes 7' in proc.stdout
