# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPMLTTAModel: views merged by probability, then one CRF."""

import math

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from mmseg_spml.models.segmentors import SPMLTTAModel


class FakeSegmentor(nn.Module):
    """Returns fixed logits per view and records how it was called."""

    def __init__(self, view_logits, crf_cfg=None, fail=False):
        super().__init__()
        self.view_logits = view_logits
        self.crf_cfg = crf_cfg
        self.out_channels = view_logits[0].shape[0]
        self.fail = fail
        self.crf_seen = []
        self.refined = []

    def test_step(self, data):
        self.crf_seen.append(self.crf_cfg)
        if self.fail:
            raise RuntimeError('view failed')
        sample = SegDataSample()
        sample.seg_logits = PixelData(data=self.view_logits[data['view']])
        return [sample]

    def refine_with_crf(self, samples):
        self.refined.append(samples[0].seg_logits.data.exp().clone())
        for sample in samples:
            sample.pred_sem_seg = PixelData(
                data=torch.zeros_like(sample.pred_sem_seg.data)
            )
        return samples


def _views():
    # Two views of a 2-class, 1x2 image. Pixel 0: probabilities
    # (0.25, 0.75) and (0.5, 0.5); pixel 1: (0.993, 0.007), (0.475, 0.525).
    first = torch.tensor([[[0.0, 5.0]], [[math.log(3.0), 0.0]]])
    second = torch.tensor([[[0.0, 0.0]], [[0.0, 0.1]]])
    return [first, second]


def test_merge_averages_probabilities_and_keeps_them():
    views = _views()
    tta = SPMLTTAModel(module=FakeSegmentor(views))
    (sample,) = tta.test_step(dict(view=[0, 1]))
    expected = (views[0].softmax(0) + views[1].softmax(0)) / 2
    # Means: pixel 0 (0.375, 0.625) -> class 1; pixel 1 (0.734, 0.266) -> 0.
    assert torch.allclose(sample.seg_logits.data.exp(), expected, atol=1e-6)
    assert sample.pred_sem_seg.data.shape == (1, 1, 2)
    assert sample.pred_sem_seg.data.flatten().tolist() == [1, 0]


def test_crf_runs_once_on_the_merged_prediction():
    views = _views()
    crf = dict(max_pixels=4)
    module = FakeSegmentor(views, crf_cfg=crf)
    tta = SPMLTTAModel(module=module)
    (sample,) = tta.test_step(dict(view=[0, 1]))
    assert module.crf_seen == [None, None]  # views predicted without CRF
    assert module.crf_cfg is crf  # restored
    assert len(module.refined) == 1
    expected = (views[0].softmax(0) + views[1].softmax(0)) / 2
    assert torch.allclose(module.refined[0], expected, atol=1e-6)
    assert sample.pred_sem_seg.data.flatten().tolist() == [0, 0]


def test_crf_setting_restored_when_a_view_fails():
    crf = dict(max_pixels=4)
    module = FakeSegmentor(_views(), crf_cfg=crf, fail=True)
    with pytest.raises(RuntimeError, match='view failed'):
        SPMLTTAModel(module=module).test_step(dict(view=[0, 1]))
    assert module.crf_cfg is crf


def test_single_channel_heads_are_rejected():
    module = FakeSegmentor([torch.zeros(1, 1, 2)])
    with pytest.raises(ValueError, match='>= 2 classes'):
        SPMLTTAModel(module=module).test_step(dict(view=[0]))
