# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Load weak label maps and precomputed superpixels."""

from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ..constants import IGNORE_INDEX, UNLABELLED
from ..weak_synthesis import image_tags


def _read_map(path: str, backend_args: Optional[dict]) -> np.ndarray:
    data = mmcv.imfrombytes(
        fileio.get(path, backend_args=backend_args),
        flag='unchanged',
        backend='pillow',
    )
    if data.ndim != 2:
        raise ValueError(
            f'{path} must be a single-channel PNG, got an '
            f'array of shape {data.shape}'
        )
    return data


def _check_shape(path: str, label: np.ndarray, results: dict) -> None:
    img_shape = results['img'].shape[:2]
    if label.shape != img_shape:
        raise ValueError(
            f'{path} has shape {label.shape} but image '
            f'{results.get("img_path")} has {img_shape}'
        )


@TRANSFORMS.register_module()
class LoadWeakAnnotations(BaseTransform):
    """Load a weak label map as the training target ``gt_seg_map``.

    Must follow ``LoadImageFromFile``. The weak map replaces the full mask,
    so every MMSeg geometric transform keeps it aligned. Values must be
    class ids (``< num_classes``), 254 (unlabelled) or 255 (void).

    If the sample has no ``img_tags`` (from the dataset's ``tags_file``),
    they are derived here from the *uncropped* weak map; an image without
    any labelled pixel gets empty tags (it still takes part in low-level
    similarity, but not in co-occurrence).

    Required keys: ``img``, ``weak_map_path``, ``num_classes``.
    Added keys: ``gt_seg_map``, ``img_tags``, ``seg_fields``.

    Args:
        unlabelled_as_ignore (bool): Map 254 (unlabelled) to 255 after the
            tags are taken, for plain cross-entropy baselines ("partial CE")
            whose heads know only one ignore value. SPML needs the two kept
            apart. Default: False.
        backend_args (dict, optional): File backend arguments.
            Default: None.
    """

    def __init__(
        self,
        unlabelled_as_ignore: bool = False,
        backend_args: Optional[dict] = None,
    ) -> None:
        self.unlabelled_as_ignore = unlabelled_as_ignore
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results['weak_map_path']
        weak = _read_map(path, self.backend_args).astype(np.uint8)
        _check_shape(path, weak, results)
        num_classes = results['num_classes']
        values = np.unique(weak)
        bad = values[
            (values >= num_classes)
            & (values != UNLABELLED)
            & (values != IGNORE_INDEX)
        ]
        if len(bad):
            raise ValueError(
                f'{path} has labels {bad.tolist()}; expected class ids '
                f'0..{num_classes - 1}, {UNLABELLED} (unlabelled) or '
                f'{IGNORE_INDEX} (void)'
            )
        results['gt_seg_map'] = weak
        if 'gt_seg_map' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('gt_seg_map')
        if results.get('img_tags') is None:
            results['img_tags'] = image_tags(weak, num_classes)
        if self.unlabelled_as_ignore:
            weak[weak == UNLABELLED] = IGNORE_INDEX
        return results


@TRANSFORMS.register_module()
class LoadSuperpixels(BaseTransform):
    """Load precomputed low-level regions (e.g. HED/UCM) as
    ``gt_superpixel`` (int32 region ids, 8- or 16-bit PNGs).

    Required keys: ``img``, ``superpixel_path``.
    Added keys: ``gt_superpixel``, ``seg_fields``.

    Args:
        backend_args (dict, optional): File backend arguments.
            Default: None.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results['superpixel_path']
        regions = _read_map(path, self.backend_args).astype(np.int32)
        _check_shape(path, regions, results)
        results['gt_superpixel'] = regions
        if 'gt_superpixel' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('gt_superpixel')
        return results
