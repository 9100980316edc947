# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Compute a low-level over-segmentation on the fly."""

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from skimage.segmentation import felzenszwalb, slic

_METHODS = ('felzenszwalb', 'slic')


@TRANSFORMS.register_module()
class ComputeSuperpixels(BaseTransform):
    """Over-segment the image into superpixels, stored as ``gt_superpixel``.

    SPML's low-level similarity relation groups pixels of one region; the
    paper uses HED contours + UCM (load them with ``LoadSuperpixels``).
    This transform computes a fast classical stand-in with scikit-image.
    Put it before the geometric transforms so the regions follow the image.

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
        if method not in _METHODS:
            raise ValueError(
                f'method must be one of {_METHODS}, got {method!r}'
            )
        if method == 'felzenszwalb':
            kwargs = {**dict(scale=100, sigma=0.8, min_size=20), **kwargs}
        self.method = method
        self.kwargs = kwargs

    def transform(self, results: dict) -> dict:
        rgb = np.ascontiguousarray(results['img'][..., ::-1])
        if self.method == 'felzenszwalb':
            regions = felzenszwalb(rgb, **self.kwargs)
        else:
            regions = slic(rgb, start_label=0, **self.kwargs)
        results['gt_superpixel'] = regions.astype(np.int32)
        if 'gt_superpixel' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('gt_superpixel')
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(method={self.method!r}, {self.kwargs})'
        )
