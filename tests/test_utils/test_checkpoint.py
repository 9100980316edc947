# Copyright (c) mmseg-spml contributors. All rights reserved.
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmseg_spml  # noqa: F401  (registers the allow-list)
from mmseg_spml.utils import checkpoint_safe_globals


class NotAllowed:
    pass


def _mmengine_like_checkpoint():
    hub = MessageHub.get_instance('test_checkpoint_hub')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_info('iter', 4)
    return dict(
        meta=dict(
            iter=4,
            seed=np.int64(7),
            lr=np.float32(0.1),
            dataset_meta=dict(classes=('a', 'b'), palette=[[0, 0, 0]]),
            message_hub=hub.state_dict(),
            hist=np.arange(6, dtype=np.int32).reshape(2, 3),
        ),
        state_dict={'w': torch.ones(2)},
        optimizer=dict(state={}, param_groups=[dict(lr=0.1)]),
    )


def test_default_weights_only_load_of_mmengine_checkpoint(tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save(_mmengine_like_checkpoint(), path)
    loaded = torch.load(path)  # weights_only=True by default (torch >= 2.6)
    buffers = loaded['meta']['message_hub']['log_scalars']
    assert isinstance(buffers['train/loss'], HistoryBuffer)
    assert buffers['train/loss'].current() == 0.25
    assert loaded['meta']['seed'] == 7
    np.testing.assert_array_equal(
        loaded['meta']['hist'], np.arange(6).reshape(2, 3)
    )
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))


def test_other_globals_stay_rejected(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(obj=NotAllowed()), path)
    with pytest.raises(pickle.UnpicklingError, match='NotAllowed'):
        torch.load(path)


def test_safe_globals_cover_numpy_module_names():
    names = {
        entry[1]
        for entry in checkpoint_safe_globals()
        if isinstance(entry, tuple)
    }
    assert 'numpy.core.multiarray._reconstruct' in names
    assert 'numpy._core.multiarray._reconstruct' in names
    assert 'numpy.core.multiarray.scalar' in names


def test_getattr_is_restricted_to_history_buffer_methods(tmp_path):
    """A checkpoint may not use getattr to reach other attributes."""

    class Reduce:
        def __reduce__(self):
            return getattr, (np.ndarray, 'tofile')

    path = tmp_path / 'getattr.pth'
    torch.save(dict(obj=Reduce()), path)
    with pytest.raises(pickle.UnpicklingError, match="getattr.*'tofile'"):
        torch.load(path)
    torch.save(dict(obj=HistoryBuffer.mean), path)
    assert torch.load(path)['obj'] is HistoryBuffer.mean
