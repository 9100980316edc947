# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SBD (Hariharan et al., ICCV 2011) ``.mat`` annotations to label maps."""

import numpy as np
from scipy.io import loadmat


def read_sbd_mat(path: str, key: str = 'GTcls') -> np.ndarray:
    """Read the segmentation of an SBD ``cls/*.mat`` or ``inst/*.mat`` file.

    Args:
        path (str): The ``.mat`` file.
        key (str): ``'GTcls'`` (class ids 0..20) or ``'GTinst'`` (instance
            ids). Default: 'GTcls'.

    Returns:
        np.ndarray: uint8 (H, W) map.

    Raises:
        ValueError: If the file lacks ``key`` or its ``Segmentation``.
    """
    try:
        mat = loadmat(
            path, mat_dtype=False, squeeze_me=True, struct_as_record=False
        )
    except Exception as e:  # scipy raises several types for bad files
        raise ValueError(f'{path} is not a readable .mat file: {e}') from e
    if key not in mat or not hasattr(mat[key], 'Segmentation'):
        raise ValueError(
            f'{path} has no {key}.Segmentation (keys: '
            f'{sorted(k for k in mat if not k.startswith("_"))})'
        )
    seg = np.asarray(mat[key].Segmentation)
    if seg.ndim != 2 or seg.size == 0:
        raise ValueError(f'{path}: {key}.Segmentation has shape {seg.shape}')
    if seg.min() < 0 or seg.max() > 255:
        raise ValueError(
            f'{path}: {key}.Segmentation has values outside '
            f'0..255 ({seg.min()}..{seg.max()})'
        )
    return seg.astype(np.uint8)
