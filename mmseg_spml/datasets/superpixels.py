# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Classical over-segmentations (superpixels) and their PNG files."""

import cv2
import numpy as np
from skimage.segmentation import felzenszwalb, slic

from mmseg_spml.utils.io import atomic_file

#: Methods of :func:`compute_superpixels`.
SUPERPIXEL_METHODS = ('felzenszwalb', 'slic')
#: Default parameters of each method (felzenszwalb: scikit-image's
#: example values for small natural images).
SUPERPIXEL_DEFAULTS = dict(
    felzenszwalb=dict(scale=100, sigma=0.8, min_size=20), slic=dict()
)


def superpixel_params(method: str = 'felzenszwalb', **kwargs) -> dict:
    """The full parameter set of ``method``: its defaults updated by
    ``kwargs``.

    Raises:
        ValueError: For an unknown method.
    """
    if method not in SUPERPIXEL_METHODS:
        raise ValueError(
            f'method must be one of {SUPERPIXEL_METHODS}, got {method!r}'
        )
    return {**SUPERPIXEL_DEFAULTS[method], **kwargs}


def compute_superpixels(
    rgb: np.ndarray, method: str = 'felzenszwalb', **kwargs
) -> np.ndarray:
    """Over-segment an image with scikit-image.

    Args:
        rgb (np.ndarray): uint8 (H, W, 3) RGB image.
        method (str): ``'felzenszwalb'`` or ``'slic'``.
            Default: 'felzenszwalb'.
        **kwargs: Arguments of the scikit-image function, on top of
            :data:`SUPERPIXEL_DEFAULTS`.

    Returns:
        np.ndarray: int32 (H, W) region ids from 0.
    """
    params = superpixel_params(method, **kwargs)
    if method == 'felzenszwalb':
        regions = felzenszwalb(rgb, **params)
    else:
        regions = slic(rgb, start_label=0, **params)
    return regions.astype(np.int32)


def save_superpixels(path: str, regions: np.ndarray) -> None:
    """Write region ids as a 16-bit PNG (read back by ``LoadSuperpixels``),
    atomically.

    Raises:
        ValueError: If an id does not fit 16 bits.
    """
    if regions.min() < 0 or regions.max() > np.iinfo(np.uint16).max:
        raise ValueError(
            f'{path}: superpixel ids must be in [0, 65535], got '
            f'[{regions.min()}, {regions.max()}]'
        )
    ok, data = cv2.imencode('.png', regions.astype(np.uint16))
    if not ok:
        raise ValueError(f'{path}: could not encode the superpixel PNG')
    with atomic_file(path) as f:
        f.write(data.tobytes())
