# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Our configs are inheritable from outside the checkout as
``mmseg_spml::spml/...`` (the checkout's editable install), and an
installed wheel carries them for OpenMMLab's ``mim``: ``mim train
mmseg_spml CONFIG`` trains on the demo data, ``mim test`` tests the
result, ``mim search mmseg_spml`` reads the model index."""

import os.path as osp
import subprocess
import sys

import pytest

from tests.helpers.tools import ROOT, tool_env

DEMO = 'spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py'
CONFIG = f"_base_ = ['mmseg_spml::{DEMO}']\n"
BUILD = (
    'import mmseg_spml\n'
    'from mmengine.config import Config\n'
    'from mmengine.registry import init_default_scope\n'
    'from mmseg.registry import MODELS\n'
    "cfg = Config.fromfile('my_spml.py')\n"
    "init_default_scope('mmseg')\n"
    'model = MODELS.build(cfg.model)\n'
    'print(type(model).__name__, cfg.train_dataloader.dataset.type)\n'
)


def _run(cmd, cwd, env, timeout=600):
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


def test_a_config_outside_the_checkout_inherits_ours(tmp_path):
    (tmp_path / 'my_spml.py').write_text(CONFIG)
    env = tool_env(str(tmp_path / 'data'))
    env.pop('PYTHONPATH')  # the installed package, not the checkout
    out = _run([sys.executable, '-c', BUILD], str(tmp_path), env)
    assert 'SPMLEncoderDecoder DemoScenesDataset' in out


@pytest.mark.slow
def test_mim_trains_and_searches_an_installed_wheel(tmp_path):
    env = tool_env(str(tmp_path / 'data'))
    wheels, site = tmp_path / 'wheels', tmp_path / 'site'
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    _run(
        pip
        + ['wheel', '-q', '--no-deps', '--no-build-isolation']
        + ['-w', str(wheels), ROOT],
        str(tmp_path),
        env,
    )
    (wheel,) = wheels.glob('mmseg_spml-*.whl')
    _run(
        pip + ['install', '-q', '--no-deps', '--target', str(site), wheel],
        str(tmp_path),
        env,
    )
    # The wheel holds copies of the configs and tools, not links.
    assert osp.isfile(site / 'mmseg_spml' / '.mim' / 'configs' / DEMO)
    assert not osp.islink(site / 'mmseg_spml' / '.mim' / 'configs')
    env['PYTHONPATH'] = str(site)
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    (run_dir / 'my_spml.py').write_text(CONFIG)
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    out = _run(
        [mim, 'train', 'mmseg_spml', 'my_spml.py']
        + ['--work-dir', str(tmp_path / 'work')]
        + ['--cfg-options', 'train_cfg.max_iters=2']
        + ['train_cfg.val_interval=2', 'val_dataloader.dataset.indices=2'],
        str(run_dir),
        env,
    )
    assert str(site / 'mmseg_spml' / '.mim' / 'tools' / 'train.py') in out
    assert 'mIoU' in out and osp.isfile(tmp_path / 'work' / 'iter_2.pth')
    out = _run(
        [mim, 'test', 'mmseg_spml', 'my_spml.py']
        + ['--checkpoint', str(tmp_path / 'work' / 'iter_2.pth')]
        + ['--work-dir', str(tmp_path / 'test')]
        + ['--cfg-options', 'test_dataloader.dataset.indices=2'],
        str(run_dir),
        env,
    )
    assert str(site / 'mmseg_spml' / '.mim' / 'tools' / 'test.py') in out
    assert 'mIoU' in out
    out = _run([mim, 'search', 'mmseg_spml'], str(run_dir), env)
    assert 'config id: spml_efflite0-d16_1xb8-1k_demo-scenes' in out
