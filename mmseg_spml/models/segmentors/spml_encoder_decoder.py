# Copyright (c) mmseg-spml contributors. All rights reserved.
"""EncoderDecoder for weak labels: auxiliary CE heads see unlabelled
pixels as void."""

from typing import Dict

from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from mmseg_spml.datasets.constants import IGNORE_INDEX


def unlabelled_as_void(samples: SampleList, num_classes: int) -> SampleList:
    """Copies of the data samples with labels ``>= num_classes`` set to 255
    (plain cross-entropy heads know only one ignore value)."""
    out = []
    for sample in samples:
        data = sample.gt_sem_seg.data
        copy = sample.clone()
        # A new PixelData: clone() shares the nested fields.
        copy.gt_sem_seg = PixelData(
            data=data.masked_fill(data >= num_classes, IGNORE_INDEX)
        )
        out.append(copy)
    return out


@MODELS.register_module()
class SPMLEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` whose data samples carry weak labels.

    The decode head (an SPML head) gets the samples as they are: weak
    labels with 254 = unlabelled, superpixels and image tags. Auxiliary
    heads of the base config (e.g. DeepLabV3's FCN head) get copies where
    unlabelled pixels are void, so they train as partial cross-entropy on
    the labelled pixels instead of failing on the value 254. Prediction is
    the decode head's classifier, as in ``EncoderDecoder``.
    """

    def _auxiliary_head_forward_train(
        self, inputs, data_samples: SampleList
    ) -> Dict[str, Tensor]:
        return super()._auxiliary_head_forward_train(
            inputs, unlabelled_as_void(data_samples, self.num_classes)
        )
