# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPMLSyncBN: plain BN in one process and in eval mode; over two gloo
processes with unequal shares, the output, the input gradients, the summed
parameter gradients and the running statistics of BN on the whole batch
(the worker is tests/helpers/sync_bn_worker.py)."""

import os.path as osp

import pytest
import torch
from mmcv.cnn import build_norm_layer
from mmengine.registry import init_default_scope
from torch import nn

from mmseg_spml.models.layers import SPMLSyncBatchNorm, sync_batch_stats
from tests.helpers.tools import ROOT
from tests.helpers.torchrun import run_one_and_two

WORKER = osp.join(ROOT, 'tests', 'helpers', 'sync_bn_worker.py')


def test_built_from_config_with_bn_names_and_state():
    init_default_scope('mmseg')
    name, layer = build_norm_layer(dict(type='SPMLSyncBN', eps=1e-3), 6)
    assert name == 'bn' and isinstance(layer, SPMLSyncBatchNorm)
    # Checkpoints are interchangeable with BN.
    layer.load_state_dict(nn.BatchNorm2d(6).state_dict())


@pytest.mark.parametrize('momentum', [0.1, None])
@pytest.mark.parametrize('shape', [(3, 4), (3, 4, 5, 6), (2, 4, 3, 2, 2)])
def test_single_process_equals_batch_norm(shape, momentum):
    torch.manual_seed(0)
    x = torch.randn(shape) * 3 + 2
    ours = SPMLSyncBatchNorm(4, momentum=momentum)
    ref_type = {2: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}
    ref = ref_type[len(shape)](4, momentum=momentum)
    for _ in range(2):
        torch.testing.assert_close(ours(x), ref(x), rtol=0, atol=0)
    torch.testing.assert_close(ours.running_var, ref.running_var)
    ours.eval(), ref.eval()
    torch.testing.assert_close(ours(x), ref(x), rtol=0, atol=0)


def test_batch_stats_are_numerically_stable():
    """The statistics equal the two-pass ones in float64 for values with a
    large offset, where E[x^2] - E[x]^2 in float32 is off by about 100 %."""
    torch.manual_seed(0)
    x = torch.randn(6, 3, 4, 4) + 3e3
    mean, var, count = sync_batch_stats(x)
    assert count == 96
    ref = x.double().permute(1, 0, 2, 3).reshape(3, -1)
    torch.testing.assert_close(mean.double(), ref.mean(1))
    torch.testing.assert_close(
        var.double(), ref.var(1, unbiased=False), rtol=1e-5, atol=0
    )


def test_rejects_inputs_without_channels():
    with pytest.raises(ValueError, match=r'\(N, C, \.\.\.\).*\(5,\)'):
        SPMLSyncBatchNorm(5)(torch.randn(5))


@pytest.mark.slow
def test_two_processes_equal_batch_norm_on_the_whole_batch(tmp_path):
    one, two = run_one_and_two(WORKER, tmp_path)
    assert len(one['steps']) == len(two['steps']) == 2
    for step, (a, b) in enumerate(zip(one['steps'], two['steps'])):
        assert a['y'].shape == (8, 4, 5, 5), step
        for key in a:
            torch.testing.assert_close(
                b[key], a[key], rtol=1e-9, atol=1e-9, msg=f'{key} {step}'
            )
    assert one['bf16']['dtype'] == two['bf16']['dtype'] == 'torch.bfloat16'
    torch.testing.assert_close(
        two['bf16']['y'], one['bf16']['y'], rtol=1e-2, atol=1e-2
    )
