# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Load weak label maps and precomputed superpixels."""

import logging
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED

from ..weak_encoding import (
    check_encoding,
    decode_weak_map,
    suspicious_encoding,
)
from ..weak_synthesis import image_tags


def read_label_map(
    path: str, backend_args: Optional[dict] = None
) -> np.ndarray:
    """A single-channel PNG (weak map, superpixels, class or instance
    mask) as stored (palette indices for palette PNGs), as the loading
    transforms read it.

    Raises:
        FileNotFoundError: If there is no file at ``path``.
        ValueError: If the image has more than one channel.
    """
    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'label file {path} does not exist') from None
    data = mmcv.imfrombytes(content, flag='unchanged', backend='pillow')
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
    so every MMSeg geometric transform keeps it aligned. The file's values
    must be class ids (``< num_classes``), ``unlabelled_value`` or
    ``void_value``; they are decoded to the package's encoding (254
    unlabelled, 255 void; see :mod:`mmseg_spml.datasets.weak_encoding`).
    A map of the default encoding that has no 254 but is mostly 255 (the
    rloss / ScribbleSup convention of 255 = "not annotated", read as void)
    is reported once per worker, by name, with the setting to use.

    If the sample has no ``img_tags`` (from the dataset's ``tags_file``),
    they are derived here from the *uncropped* weak map; an image without
    any labelled pixel gets empty tags (it still takes part in low-level
    similarity, but not in co-occurrence).

    Required keys: ``img``, ``weak_map_path``, ``num_classes``.
    Added keys: ``gt_seg_map``, ``img_tags``, ``seg_fields``.

    Example:
        >>> # rloss / ScribbleSup scribble PNGs: 255 = not annotated
        >>> dict(type='LoadWeakAnnotations', unlabelled_value=255,
        ...      void_value=None)

    Args:
        unlabelled_as_ignore (bool): Map 254 (unlabelled) to 255 after the
            tags are taken, for plain cross-entropy baselines ("partial CE")
            whose heads know only one ignore value. SPML needs the two kept
            apart. Default: False.
        unlabelled_value (int): Value of unlabelled pixels in the files.
            Default: 254.
        void_value (int, optional): Value of void pixels in the files, None
            if they have none. Default: 255.
        backend_args (dict, optional): File backend arguments.
            Default: None.
    """

    def __init__(
        self,
        unlabelled_as_ignore: bool = False,
        unlabelled_value: int = UNLABELLED,
        void_value: Optional[int] = IGNORE_INDEX,
        backend_args: Optional[dict] = None,
    ) -> None:
        check_encoding(unlabelled_value, void_value)
        self.unlabelled_as_ignore = unlabelled_as_ignore
        self.unlabelled_value = unlabelled_value
        self.void_value = void_value
        self.backend_args = backend_args
        self._warned = False

    def transform(self, results: dict) -> dict:
        path = results['weak_map_path']
        raw = read_label_map(path, self.backend_args)
        _check_shape(path, raw, results)
        weak = decode_weak_map(
            raw,
            path,
            results['num_classes'],
            self.unlabelled_value,
            self.void_value,
        )
        if not self._warned:
            reason = suspicious_encoding(
                raw, self.unlabelled_value, self.void_value
            )
            if reason is not None:
                self._warned = True
                print_log(
                    f'{path}: {reason} (reported for the first such '
                    'file only; tools/analysis_tools/check_weak_dataset.py '
                    'lists all)',
                    logger='current',
                    level=logging.WARNING,
                )
        results['gt_seg_map'] = weak
        if 'gt_seg_map' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('gt_seg_map')
        if results.get('img_tags') is None:
            results['img_tags'] = image_tags(weak, results['num_classes'])
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
        regions = read_label_map(path, self.backend_args).astype(np.int32)
        _check_shape(path, regions, results)
        results['gt_superpixel'] = regions
        if 'gt_superpixel' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('gt_superpixel')
        return results
