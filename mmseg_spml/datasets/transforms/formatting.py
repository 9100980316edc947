# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pad and pack the extra per-pixel fields of weak supervision."""

from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform, to_tensor
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from mmseg_spml.label_encoding import IGNORE_INDEX, SUPERPIXEL_PAD

#: Per-pixel fields besides ``gt_seg_map`` that weak supervision packs.
EXTRA_PIXEL_FIELDS = ('gt_superpixel',)


@TRANSFORMS.register_module()
class PadExtraSegFields(BaseTransform):
    """Pad the per-pixel fields that mmcv's ``Pad`` leaves out.

    mmcv ``Pad`` pads only ``img`` and ``gt_seg_map``. Put this transform
    right after it: every other entry of ``seg_fields`` smaller than the
    padded image is padded at the bottom and right, as ``Pad`` does.

    Args:
        pad_val (dict, optional): Padding value per field. Fields not
            listed are padded with 255 (void). Default:
            ``dict(gt_superpixel=-1)``.
    """

    def __init__(self, pad_val: Optional[Dict[str, int]] = None) -> None:
        self.pad_val = dict(gt_superpixel=SUPERPIXEL_PAD)
        self.pad_val.update(pad_val or {})

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        for key in results.get('seg_fields', []):
            field = results[key]
            pad_h, pad_w = height - field.shape[0], width - field.shape[1]
            if pad_h < 0 or pad_w < 0:
                raise ValueError(
                    f'{key} of shape {field.shape} is larger '
                    f'than the padded image ({height}, {width})'
                )
            if pad_h or pad_w:
                results[key] = np.pad(
                    field,
                    ((0, pad_h), (0, pad_w)),
                    constant_values=self.pad_val.get(key, IGNORE_INDEX),
                )
        return results


@TRANSFORMS.register_module()
class PackWeakSegInputs(PackSegInputs):
    """``PackSegInputs`` that also packs superpixels and image tags.

    ``gt_seg_map`` becomes ``data_sample.gt_sem_seg`` as usual (for weak
    training it holds the weak labels), ``gt_superpixel`` becomes
    ``data_sample.gt_superpixel`` (``PixelData``, int64 (1, H, W)) and
    ``img_tags`` goes into the metainfo.

    Args:
        meta_keys (Sequence[str]): Meta keys; ``img_tags`` is added to
            MMSeg's defaults.
    """

    def __init__(
        self,
        meta_keys: Sequence[str] = (
            'img_path',
            'seg_map_path',
            'ori_shape',
            'img_shape',
            'pad_shape',
            'scale_factor',
            'flip',
            'flip_direction',
            'reduce_zero_label',
            'img_tags',
        ),
    ) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        for key in EXTRA_PIXEL_FIELDS:
            if key in results:
                data = to_tensor(results[key][None].astype(np.int64))
                packed['data_samples'].set_data({key: PixelData(data=data)})
        return packed
