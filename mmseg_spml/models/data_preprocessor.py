# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Data preprocessor that pads the extra per-pixel fields of a batch."""

from typing import Any, Dict, Optional

import torch.nn.functional as F
from mmseg.models import SegDataPreProcessor
from mmseg.registry import MODELS

from mmseg_spml.label_encoding import SUPERPIXEL_PAD


@MODELS.register_module()
class WeakSegDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` that pads ``gt_superpixel`` like
    ``gt_sem_seg``.

    MMSeg's ``stack_batch`` pads images and ``gt_sem_seg`` (with 255) to a
    common size but leaves other fields unequal, so they cannot be stacked.
    Here every field in ``pad_vals`` is padded with the same bottom/right
    ``padding_size`` as its image.

    Args:
        pad_vals (dict, optional): Padding value per extra ``PixelData``
            field. Default: ``dict(gt_superpixel=-1)``.
        **kwargs: Passed to :class:`SegDataPreProcessor`.
    """

    def __init__(
        self, pad_vals: Optional[Dict[str, int]] = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.pad_vals = dict(gt_superpixel=SUPERPIXEL_PAD)
        self.pad_vals.update(pad_vals or {})

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        data = super().forward(data, training)
        if not training or data.get('data_samples') is None:
            return data
        for sample in data['data_samples']:
            left, right, top, bottom = sample.metainfo['padding_size']
            for key, value in self.pad_vals.items():
                if key in sample:
                    field = getattr(sample, key)
                    padded = F.pad(
                        field.data, (left, right, top, bottom), value=value
                    )
                    # PixelData refuses a new shape while the old data is set.
                    del field.data
                    field.data = padded
        return data
