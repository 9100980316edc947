# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Compute a low-level over-segmentation on the fly."""

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ..superpixels import compute_superpixels, superpixel_params


@TRANSFORMS.register_module()
class ComputeSuperpixels(BaseTransform):
    """Over-segment the image into superpixels, stored as ``gt_superpixel``.

    SPML's low-level similarity relation groups pixels of one region; the
    paper uses HED contours + UCM (load them with ``LoadSuperpixels``).
    This transform computes a fast classical stand-in with scikit-image.
    Put it before the geometric transforms so the regions follow the image.
    It runs in the data workers at every iteration (about 20 ms for a
    128 x 128 image on one core); the demo dataset can compute them once
    instead (``DemoScenesDataset(superpixels=...)`` with
    ``LoadSuperpixels``).

    Required keys: ``img`` (H, W, 3), BGR as loaded by LoadImageFromFile.
    Added keys: ``gt_superpixel`` (int32 (H, W), ids from 0),
    ``seg_fields``.

    Args:
        method (str): ``'felzenszwalb'`` or ``'slic'``.
            Default: 'felzenszwalb'.
        **kwargs: Passed to the scikit-image function, e.g. ``scale``,
            ``sigma``, ``min_size`` (felzenszwalb) or ``n_segments``,
            ``compactness`` (slic). Default: felzenszwalb's
            ``scale=100, sigma=0.8, min_size=20``.
    """

    def __init__(self, method: str = 'felzenszwalb', **kwargs) -> None:
        self.kwargs = superpixel_params(method, **kwargs)
        self.method = method

    def transform(self, results: dict) -> dict:
        rgb = np.ascontiguousarray(results['img'][..., ::-1])
        results['gt_superpixel'] = compute_superpixels(
            rgb, self.method, **self.kwargs
        )
        if 'gt_superpixel' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('gt_superpixel')
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(method={self.method!r}, {self.kwargs})'
        )
