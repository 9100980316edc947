# Copyright (c) mmseg-spml contributors. All rights reserved.
import logging
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image
from torch import nn

from mmseg_spml.engine import CyclicPseudoMaskHook
from mmseg_spml.utils.io import save_label_png

# Class scores of the two images: class 2 wins everywhere, class 1 second.
SCORES = torch.tensor([0.1, 0.5, 0.9]).view(3, 1, 1).expand(3, 2, 3)


class FakeModel(nn.Module):
    """Predicts SCORES for every sample; counts re-initialisations."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.inits = 0

    def test_step(self, data):
        samples = []
        for meta in data:
            sample = SegDataSample(metainfo=meta)
            sample.seg_logits = PixelData(data=SCORES.clone())
            samples.append(sample)
        return samples

    def init_weights(self):
        self.inits += 1
        nn.init.zeros_(self.linear.weight)


class FakeDataset:
    metainfo = dict(palette=[[0, 0, 0]])

    def __len__(self):
        return 2


class FakeLoader:
    """Two one-sample batches of metainfo, as the hook's dataloader."""

    def __init__(self):
        self.batches = [
            [dict(img_path='/x/a.jpg', img_tags=[0, 1])],  # 2 not tagged
            [dict(img_path='/x/b.jpg', img_tags=[0, 1, 2])],
        ]
        self.dataset = FakeDataset()

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def _runner(tmp_path, label_dir):
    model = FakeModel()
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.linear.weight.sum().backward()
    optim.step()  # creates momentum state
    train_set = SimpleNamespace(data_prefix=dict(weak_path=str(label_dir)))
    return SimpleNamespace(
        work_dir=str(tmp_path / 'work'),
        model=model,
        optim_wrapper=SimpleNamespace(optimizer=optim),
        build_dataloader=lambda cfg: FakeLoader(),
        logger=logging.getLogger('test'),
        train_dataloader=SimpleNamespace(dataset=train_set),
        iter=0,
    )


def _read(path):
    return np.array(Image.open(path))


def test_rewrites_labels_at_the_given_iterations_and_archives(tmp_path):
    labels = tmp_path / 'labels'
    for name in 'ab':
        save_label_png(
            str(labels / f'{name}.png'), np.full((2, 3), 254, np.uint8)
        )
    runner = _runner(tmp_path, labels)
    hook = CyclicPseudoMaskHook(at_iters=[3], dataloader=dict())
    hook.before_train(runner)
    runner.iter = 1  # after iteration 2: nothing happens
    hook.after_train_iter(runner, 0)
    assert (_read(labels / 'a.png') == 254).all()
    runner.iter = 2  # after iteration 3
    hook.after_train_iter(runner, 0)
    # a is not tagged with class 2: its runner-up class 1 wins.
    assert (_read(labels / 'a.png') == 1).all()
    assert (_read(labels / 'b.png') == 2).all()
    archived = osp.join(
        runner.work_dir, 'cyclic_pseudo_masks', 'before_round_1'
    )
    assert (_read(osp.join(archived, 'a.png')) == 254).all()
    assert runner.model.inits == 0  # no restart by default
    assert runner.optim_wrapper.optimizer.state


def test_restart_reinitialises_model_and_optimizer(tmp_path):
    labels = tmp_path / 'labels'
    save_label_png(str(labels / 'a.png'), np.zeros((2, 3), np.uint8))
    runner = _runner(tmp_path, labels)
    hook = CyclicPseudoMaskHook(
        at_iters=[1], dataloader=dict(), restart=True, restrict_to_tags=False
    )
    hook.before_train(runner)
    hook.after_train_iter(runner, 0)
    assert (_read(labels / 'a.png') == 2).all()  # no tag restriction
    assert runner.model.inits == 1
    assert not runner.optim_wrapper.optimizer.state
    assert (runner.model.linear.weight == 0).all()


def test_configuration_errors(tmp_path):
    with pytest.raises(ValueError, match='at_iters'):
        CyclicPseudoMaskHook(at_iters=[], dataloader=dict())
    runner = _runner(tmp_path, tmp_path / 'missing')
    hook = CyclicPseudoMaskHook(at_iters=[1], dataloader=dict())
    with pytest.raises(FileNotFoundError, match='missing'):
        hook.before_train(runner)
    runner.train_dataloader.dataset.data_prefix = {}
    hook = CyclicPseudoMaskHook(at_iters=[1], dataloader=dict())
    with pytest.raises(ValueError, match='give label_dir'):
        hook.before_train(runner)


def test_tags_file_overrides_sample_tags(tmp_path):
    labels = tmp_path / 'labels'
    for name in 'ab':
        save_label_png(str(labels / f'{name}.png'), np.zeros((2, 3), np.uint8))
    tags = tmp_path / 'tags.json'
    tags.write_text('{"a": [0, 2], "b": [0]}')
    runner = _runner(tmp_path, labels)
    hook = CyclicPseudoMaskHook(
        at_iters=[1], dataloader=dict(), tags_file=str(tags)
    )
    hook.before_train(runner)
    hook.after_train_iter(runner, 0)
    assert (_read(labels / 'a.png') == 2).all()
    assert (_read(labels / 'b.png') == 0).all()  # background only
