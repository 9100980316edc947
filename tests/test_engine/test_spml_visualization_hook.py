# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPMLVisualizationHook with a tiny SPML model and a LocalVisBackend."""

import copy
import os
import os.path as osp
from types import SimpleNamespace

import cv2
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmengine.visualization import Visualizer
from mmseg.registry import HOOKS, MODELS
from mmseg.structures import SegDataSample
from torch import nn

from mmseg_spml.engine import SPMLVisualizationHook
from mmseg_spml.engine.hooks import spml_visualization_hook
from mmseg_spml.engine.visualization import spml_diagnostics
from mmseg_spml.utils import adapt_cfg_to_device
from tests.helpers.tools import ROOT

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')
SIZE = 32


@pytest.fixture(scope='module')
def model():
    init_default_scope('mmseg')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(TINY_SPML).model).train()


def _batch(num: int) -> dict:
    """A training batch as the dataloader gives it: uint8 BGR images, weak
    labels (254 = unlabelled, 255 = void) and superpixels."""
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(num):
        inputs.append(torch.randint(0, 256, (3, SIZE, SIZE), generator=g))
        label = torch.full((1, SIZE, SIZE), 254)
        label[:, 4:8, 4:20] = 1
        label[:, 20:24, 4:20] = 0
        label[:, :, -4:] = 255
        ys, xs = torch.meshgrid(
            torch.arange(SIZE), torch.arange(SIZE), indexing='ij'
        )
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE), img_tags=[0, 1]
            )
        )
        sample.gt_sem_seg = PixelData(data=label)
        sample.gt_superpixel = PixelData(data=((ys // 8) * 4 + xs // 8)[None])
        samples.append(sample)
    return dict(
        inputs=[i.to(torch.uint8) for i in inputs], data_samples=samples
    )


def _runner(model, tmp_path):
    visualizer = Visualizer(
        name=f'spml_vis_{tmp_path.name}',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'vis'),
    )
    return SimpleNamespace(model=model, iter=0, visualizer=visualizer)


def _images(tmp_path):
    folder = tmp_path / 'vis' / 'vis_data' / 'vis_image'
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def test_draws_training_batches_at_the_interval(model, tmp_path):
    runner = _runner(model, tmp_path)
    hook = SPMLVisualizationHook(interval=2, max_images=2)
    hook.before_run(runner)
    before = copy.deepcopy(model.state_dict())
    for it in range(5):
        runner.iter = it
        hook.after_train_iter(runner, it, _batch(3))
        if it == 0:
            assert _images(tmp_path) == []  # not at iteration 1
    assert _images(tmp_path) == [
        'spml_train_0_2.png',
        'spml_train_0_4.png',
        'spml_train_1_2.png',
        'spml_train_1_4.png',
    ]
    strip = cv2.imread(
        str(tmp_path / 'vis' / 'vis_data' / 'vis_image' / 'spml_train_0_2.png')
    )
    assert strip.shape == (SIZE, 6 * SIZE, 3)
    # Eval mode and no gradients inside; training mode and weights after
    # (BN statistics included).
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_wrapped_model_and_other_ranks(model, tmp_path, monkeypatch):
    runner = _runner(nn.DataParallel(model), tmp_path)  # a model wrapper
    hook = SPMLVisualizationHook(interval=1, max_images=1)
    hook.before_run(runner)
    hook.after_train_iter(runner, 0, _batch(2))
    assert _images(tmp_path) == ['spml_train_0_1.png']
    monkeypatch.setattr(
        spml_visualization_hook.dist, 'is_main_process', lambda: False
    )
    runner.iter = 1
    hook.after_train_iter(runner, 1, _batch(2))
    assert _images(tmp_path) == ['spml_train_0_1.png']


def test_validation_images_only_when_asked(model, tmp_path):
    runner = _runner(model, tmp_path)
    runner.iter = 6
    hook = SPMLVisualizationHook(
        interval=1, max_images=2, draw_train=False, draw_val=True
    )
    hook.after_train_iter(runner, 0, _batch(1))
    assert _images(tmp_path) == []
    for _ in range(2):  # two validation runs: the same images again
        hook.before_val_epoch(runner)
        for idx in range(3):
            hook.after_val_iter(runner, idx, _batch(1))
    assert _images(tmp_path) == ['spml_val_0_6.png', 'spml_val_1_6.png']


def test_configuration_errors(tmp_path):
    with pytest.raises(ValueError, match='interval'):
        SPMLVisualizationHook(interval=0)
    with pytest.raises(ValueError, match='segment_style'):
        SPMLVisualizationHook(segment_style='dots')
    hook = SPMLVisualizationHook()
    runner = SimpleNamespace(model=nn.Conv2d(3, 3, 1))
    with pytest.raises(TypeError, match='SPML'):
        hook.before_run(runner)


def test_hook_in_a_training_run(tmp_path, monkeypatch):
    """Built from config by a Runner: training and validation images of
    the demo data reach the visualizer's backend."""
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    cfg = Config.fromfile(TINY_SPML)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.launcher = 'none'
    cfg.custom_hooks = [
        dict(type='SPMLVisualizationHook', interval=1, draw_val=True)
    ]
    cfg.visualizer = dict(
        type='SegLocalVisualizer',
        name=f'spml_vis_run_{tmp_path.name}',
        vis_backends=[dict(type='LocalVisBackend')],
    )
    cfg.train_cfg.max_iters = 1
    cfg.train_cfg.val_interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    adapt_cfg_to_device(cfg)
    assert HOOKS.get('SPMLVisualizationHook') is SPMLVisualizationHook
    runner = Runner.from_cfg(cfg)
    runner.train()
    found = {}
    for root, _, files in os.walk(cfg.work_dir):
        for name in files:
            if name.startswith('spml_'):
                found[name] = cv2.imread(osp.join(root, name)).shape
    # Training crops are 128 px; validation images are resized to 128.
    assert found == {
        'spml_train_0_1.png': (128, 6 * 128, 3),
        'spml_train_1_1.png': (128, 6 * 128, 3),
        'spml_val_0_1.png': (128, 6 * 128, 3),
        'spml_val_1_1.png': (128, 6 * 128, 3),
    }


def test_fields_padded_by_the_training_step_are_cropped(model):
    """The training step pads the samples' fields in place to the batch
    size, not the images: the diagnostics crop them back."""
    batch = _batch(1)
    sample = batch['data_samples'][0]
    label = sample.gt_sem_seg.data
    sample.gt_sem_seg = PixelData(
        data=torch.nn.functional.pad(label, (0, 8, 0, 8), value=255)
    )
    sample.gt_superpixel = PixelData(
        data=torch.nn.functional.pad(
            sample.gt_superpixel.data, (0, 8, 0, 8), value=-1
        )
    )
    sample.set_metainfo(dict(pad_shape=(SIZE + 8, SIZE + 8)))
    (diag,) = spml_diagnostics(model, batch)
    assert diag.label.shape == diag.superpixels.shape == (SIZE, SIZE)
    assert (diag.label == label[0].numpy()).all()
    assert diag.prediction.shape == (SIZE, SIZE)
    assert diag.image.shape == (SIZE, SIZE, 3)
    # BGR input shown as RGB.
    assert (diag.image[..., 0] == batch['inputs'][0][2].numpy()).all()
