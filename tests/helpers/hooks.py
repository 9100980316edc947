# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Hooks used by the tests to interrupt and inspect training runs."""

import hashlib
import json
import os
import os.path as osp
import signal

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


def tensor_digest(tensor) -> str:
    """SHA-1 of a tensor's bytes: equal iff the values are bit-identical."""
    data = tensor.detach().cpu().contiguous().numpy().tobytes()
    return hashlib.sha1(data).hexdigest()


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILL the process after ``iteration`` (1-based) iterations, like a
    job killed by a scheduler: no clean-up, no final checkpoint."""

    priority = 'LOWEST'  # after CheckpointHook has saved

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ) -> None:
        if runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class RecordStartHook(Hook):
    """Write the iteration counter and a per-tensor digest to
    ``<work_dir>/start_state.json`` when training starts (after resume)."""

    def before_train(self, runner) -> None:
        model = runner.model
        model = getattr(model, 'module', model)
        state = {k: tensor_digest(v) for k, v in model.state_dict().items()}
        with open(osp.join(runner.work_dir, 'start_state.json'), 'w') as f:
            json.dump(dict(iter=runner.iter, state=state), f)
