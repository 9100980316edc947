# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The CAM file format, and CAMs as class scores.

A CAM file ``<name>.npz`` (written by ``tools/make_cams.py``, read by
``tools/make_pseudo_masks.py`` and ``tools/make_pseudo_labels.py``) holds

* ``cams``: float16 (K, H, W) in [0, 1], one map per foreground tag of the
  image, each divided by its maximum, at the image's size;
* ``keys``: int64 (K, ) their class ids (``1 .. C - 1``).
"""

from typing import Tuple

import numpy as np
import torch
from torch import Tensor

from mmseg_spml.utils.io import atomic_file


def save_cam_file(path: str, cams: np.ndarray, keys: np.ndarray) -> None:
    """Write ``cams`` (as float16) and ``keys`` to ``path`` atomically.

    Args:
        path (str): Output ``.npz`` file.
        cams (np.ndarray): float (K, H, W) maps in [0, 1].
        keys (np.ndarray): integer (K, ) class ids.
    """
    with atomic_file(path) as f:
        np.savez_compressed(
            f, cams=cams.astype(np.float16), keys=keys.astype(np.int64)
        )


def load_cam_file(path: str) -> Tuple[Tensor, Tensor]:
    """Read a CAM file.

    Args:
        path (str): A ``.npz`` file of :func:`save_cam_file`.

    Returns:
        tuple[Tensor, Tensor]: float32 (K, H, W) CAMs and long (K, ) keys.

    Raises:
        ValueError: If the file is unreadable or lacks ``cams``/``keys``
            of matching shapes, naming the file.
    """
    try:
        with np.load(path) as data:
            cams, keys = data['cams'], data['keys']
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(
            f'{path} is not a CAM file with "cams" and "keys": {e}'
        ) from e
    if cams.ndim != 3 or keys.shape != (cams.shape[0],):
        raise ValueError(
            f'{path}: expected cams (K, H, W) and keys (K, ), got '
            f'{cams.shape} and {keys.shape}'
        )
    return torch.from_numpy(cams.astype(np.float32)), torch.from_numpy(
        keys.astype(np.int64)
    )


def cam_class_scores(
    cams: Tensor, keys: Tensor, num_classes: int, bg_power: float = 6.0
) -> Tensor:
    """Class scores of every class from an image's CAMs.

    The score of class ``keys[k]`` is ``cams[k]``, the background's is
    ``(1 - max_k cams_k) ** bg_power`` (SPML appendix A.2 and the
    reference ``pseudo_camrw_crf.py``: alpha 6), and classes without a CAM
    score 0. These are the seeds that SPML's tag setting propagates by the
    random walk on the stage-1 embedding.

    Args:
        cams (Tensor): float (K, H, W) normalised CAMs in [0, 1].
        keys (Tensor): long (K, ) foreground class ids, ``< num_classes``.
        num_classes (int): C.
        bg_power (float): alpha of the background score. Default: 6.

    Returns:
        Tensor: float (C, H, W) scores in [0, 1].
    """
    if cams.dim() != 3 or keys.shape != (cams.shape[0],):
        raise ValueError(
            f'cams must be (K, H, W) with keys (K, ), got '
            f'{tuple(cams.shape)} and {tuple(keys.shape)}'
        )
    if len(keys) and not 0 < int(keys.min()) <= int(keys.max()) < num_classes:
        raise ValueError(
            f'keys {keys.tolist()} must be foreground ids in '
            f'1..{num_classes - 1}'
        )
    scores = cams.new_zeros((num_classes, *cams.shape[1:]))
    fg_max = cams.amax(0) if len(keys) else scores[0]
    scores[0] = (1 - fg_max.clamp(0, 1)).pow(bg_power)
    scores[keys] = cams
    return scores
