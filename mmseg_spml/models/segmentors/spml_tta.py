# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Test-time augmentation that merges the views before the dense CRF."""

from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList


@MODELS.register_module()
class SPMLTTAModel(SegTTAModel):
    """``SegTTAModel`` for :class:`SPMLEncoderDecoder`: merge, then refine.

    The views (scales, flips) are predicted without the module's dense CRF,
    their class probabilities (softmax of ``seg_logits``: the classifier's
    logits or the KNN vote shares' logs) are averaged, and the merged
    probabilities are refined once by the CRF when the module has one
    (``crf=dict(...)``). This is the order of SPML's inference (multi-scale
    and flip, then CRF) and costs one CRF per image instead of one per
    view. Unlike ``SegTTAModel``, the merged probabilities are kept as the
    result's ``seg_logits`` (as logs), so tools that read the scores see
    the merged ones, not the last view's.

    Use it through the config's ``tta_model`` (``tools/test.py --tta``)::

        tta_model = dict(type='SPMLTTAModel')
    """

    def test_step(self, data) -> SampleList:
        """Predict every view without CRF, merge, then refine once."""
        crf_cfg = getattr(self.module, 'crf_cfg', None)
        if crf_cfg is None:
            return super().test_step(data)
        self.module.crf_cfg = None
        try:
            merged = super().test_step(data)
        finally:
            self.module.crf_cfg = crf_cfg
        return self.module.refine_with_crf(merged)

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Average the views' probabilities.

        Args:
            data_samples_list (list[list[SegDataSample]]): Per image, the
                predictions of its views, each with ``seg_logits``
                (C, H, W) at the original image size.

        Returns:
            list[SegDataSample]: Per image, ``seg_logits`` (log of the
            merged probabilities) and ``pred_sem_seg`` (1, H, W).
        """
        if self.module.out_channels < 2:
            raise ValueError(
                'SPMLTTAModel merges class probabilities: the decode head '
                f'must predict >= 2 classes, got {self.module.out_channels}'
            )
        merged = []
        for views in data_samples_list:
            probs = torch.stack(
                [v.seg_logits.data.softmax(dim=0) for v in views]
            ).mean(dim=0)
            sample = views[0]
            sample.seg_logits = PixelData(data=probs.clamp(min=1e-8).log())
            sample.pred_sem_seg = PixelData(data=probs.argmax(0, keepdim=True))
            merged.append(sample)
        return merged
