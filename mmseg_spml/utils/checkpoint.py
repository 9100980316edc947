# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Let torch >= 2.6 load MMEngine checkpoints with ``weights_only=True``.

torch 2.6 switched ``torch.load`` to ``weights_only=True``. mmengine 0.10.7
calls ``torch.load`` without the argument, and its checkpoints hold, next to
tensors, the message hub's ``HistoryBuffer`` objects and numpy arrays and
scalars in ``meta``. Loading them fails with "Weights only load failed ...
Unsupported global". Instead of switching the safety off for every load
(``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``), we allow-list exactly the extra
types such checkpoints contain. The unpickler still rejects anything else.

One entry needs care: ``HistoryBuffer`` pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``. Allowing the builtin ``getattr`` would
let a checkpoint fetch any attribute of any allowed global, so ``getattr``
is replaced, for the unpickler only, by :func:`_history_buffer_getattr`,
which resolves exactly those attributes.
"""

import importlib
import pickle
from typing import Any, List, Tuple, Union

import numpy as np
import torch

SafeGlobal = Union[Any, Tuple[Any, str]]

# Scalar types numpy may pickle; their dtype classes are allow-listed.
_NUMPY_SCALARS = (
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.str_,
)


# Statistics methods a pickled HistoryBuffer refers to.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    from mmengine.logging import HistoryBuffer

    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only '
        f'HistoryBuffer.{{{", ".join(_HISTORY_BUFFER_METHODS)}}} are '
        'allowed when loading with weights_only=True'
    )


def checkpoint_safe_globals() -> List[SafeGlobal]:
    """Types found in checkpoints written by the MMEngine Runner.

    Returns:
        list: Entries for :func:`torch.serialization.add_safe_globals`;
        numpy functions are listed under both their numpy 1 and numpy 2
        module names, so checkpoints written with either load.
    """
    from mmengine.logging import HistoryBuffer

    try:
        multiarray = importlib.import_module('numpy._core.multiarray')
    except ImportError:  # numpy < 2
        multiarray = importlib.import_module('numpy.core.multiarray')
    safe: List[SafeGlobal] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    for name in ('_reconstruct', 'scalar'):
        func = getattr(multiarray, name)
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            safe.append((func, f'{module}.{name}'))
    safe += [type(np.dtype(t)) for t in _NUMPY_SCALARS]
    return safe


def register_checkpoint_safe_globals() -> None:
    """Allow-list the types of MMEngine checkpoints for ``torch.load``.

    Called when :mod:`mmseg_spml` is imported, so ``--resume``,
    ``load_from``, ``tools/test.py CONFIG CKPT`` and
    ``mmseg.apis.init_model`` work under torch >= 2.6 for every config that
    imports the plugin. A no-op on torch versions without
    ``add_safe_globals``.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(checkpoint_safe_globals())
