# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Classical over-segmentations (superpixels), regions of UCM contour
maps, and their PNG files."""

import cv2
import numpy as np
from scipy import ndimage
from skimage.measure import label as connected_components
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


def regions_from_ucm(ucm: np.ndarray, threshold: float) -> np.ndarray:
    """The regions of an ultrametric contour map cut at ``threshold``.

    The paper's superpixels are HED contours through owt-ucm, cut at a
    threshold (about 0.5 for VOC): the regions are the 4-connected
    components of the pixels whose contour strength is below it; contour
    pixels join their nearest region. Ids are numbered from the top-left,
    as in the reference's region PNGs.

    Args:
        ucm (np.ndarray): (H, W) contour strengths, float in [0, 1] or
            uint8 (divided by 255).
        threshold (float): Cut, in (0, 1].

    Returns:
        np.ndarray: int32 (H, W) region ids from 0.

    Raises:
        ValueError: For a threshold outside (0, 1] or a map without any
            pixel below it.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f'UCM threshold must be in (0, 1], got {threshold}')
    strength = ucm / 255.0 if ucm.dtype == np.uint8 else ucm.astype(float)
    inside = strength < threshold
    if not inside.any():
        raise ValueError(
            f'no pixel of the UCM map is below the threshold {threshold}'
        )
    regions = connected_components(inside, connectivity=1, background=0)
    # Contour pixels (label 0) take the label of their nearest region.
    _, (rows, cols) = ndimage.distance_transform_edt(
        regions == 0, return_indices=True
    )
    return (regions[rows, cols] - 1).astype(np.int32)
