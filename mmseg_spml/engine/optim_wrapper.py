# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Mixed-precision optimizer wrapper that also runs on CPU-only machines."""

import logging
from typing import Optional, Union

import torch
from mmengine.device import (
    is_cuda_available,
    is_mlu_available,
    is_musa_available,
    is_npu_available,
)
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

#: Autocast dtypes the wrapper accepts.
AMP_DTYPES = ('float16', 'bfloat16')


def _accelerator_available() -> bool:
    """Whether MMEngine's ``get_device()`` returns an accelerator."""
    return (
        is_cuda_available()
        or is_npu_available()
        or is_mlu_available()
        or is_musa_available()
    )


@OPTIM_WRAPPERS.register_module()
class SPMLAmpOptimWrapper(AmpOptimWrapper):
    """:class:`mmengine.optim.AmpOptimWrapper` that picks its dtype by
    device and also trains on CPU.

    MMEngine 0.10.7's ``AmpOptimWrapper`` asserts that a GPU (or NPU, MLU,
    MUSA) is present, so ``tools/train.py --amp`` cannot run on CPU-only
    machines, although ``torch.autocast('cpu', dtype=torch.bfloat16)``
    works there. This wrapper:

    * defaults to float16 on accelerators and bfloat16 on CPU (the only
      dtype of MMEngine's CPU autocast);
    * keeps MMEngine's behaviour for float16 on an accelerator (dynamic
      loss scaling with ``GradScaler``);
    * turns loss scaling off for bfloat16, whose exponent range is that of
      float32, so gradients do not underflow (``loss_scale`` is ignored).

    Autocast covers the model's forward pass (``optim_context``); the SPML
    losses and k-means leave autocast and compute in float32 themselves.
    ``tools/train.py --amp`` selects this wrapper.

    Args:
        loss_scale (float | str | dict): Initial ``GradScaler`` setting,
            as in ``AmpOptimWrapper``; used with float16 only.
            Default: 'dynamic'.
        dtype (str | torch.dtype, optional): ``'float16'`` or
            ``'bfloat16'``; None picks float16 on accelerators and
            bfloat16 on CPU. Default: None.
        use_fsdp (bool): Use ``ShardedGradScaler`` (float16 only).
            Default: False.
        **kwargs: Arguments of :class:`mmengine.optim.OptimWrapper`.

    Raises:
        ValueError: If ``dtype`` is not float16/bfloat16, or is float16 on
            a machine without an accelerator.
    """

    def __init__(
        self,
        loss_scale: Union[str, float, dict] = 'dynamic',
        dtype: Optional[Union[str, torch.dtype]] = None,
        use_fsdp: bool = False,
        **kwargs,
    ) -> None:
        accelerator = _accelerator_available()
        if dtype is None:
            dtype = 'float16' if accelerator else 'bfloat16'
        name = str(dtype).replace('torch.', '')
        if name not in AMP_DTYPES:
            raise ValueError(
                f'AMP dtype must be one of {AMP_DTYPES}, got {dtype!r}'
            )
        if name == 'float16' and not accelerator:
            raise ValueError(
                'float16 autocast needs a GPU, but none is available: train '
                'with bfloat16 on CPU (tools/train.py --amp --amp-dtype '
                'bfloat16, or optim_wrapper.dtype=bfloat16)'
            )
        if name == 'float16':
            super().__init__(
                loss_scale=loss_scale, dtype=name, use_fsdp=use_fsdp, **kwargs
            )
        else:
            # Skip AmpOptimWrapper.__init__: it asserts an accelerator.
            OptimWrapper.__init__(self, **kwargs)
            self._scale_update_param = None
            # A disabled scaler passes losses and steps through unchanged
            # and saves an empty state.
            self.loss_scaler = torch.amp.GradScaler(
                'cuda' if is_cuda_available() else 'cpu', enabled=False
            )
            self.cast_dtype = torch.bfloat16
        scaling = 'on' if name == 'float16' else 'off'
        print_log(
            f'Mixed precision: autocast to {name}, loss scaling {scaling}.',
            logger='current',
            level=logging.INFO,
        )

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the optimizer and loss-scaler states.

        The empty scaler state of a bfloat16 run is skipped, so a float16
        run (e.g. on GPUs) can resume from it with a fresh scaler.

        Args:
            state_dict (dict): As returned by :meth:`state_dict`.
        """
        if state_dict.get('loss_scaler') == {}:
            state_dict = dict(state_dict)
            del state_dict['loss_scaler']
        super().load_state_dict(state_dict)
