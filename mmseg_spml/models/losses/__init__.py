# Copyright (c) mmseg-spml contributors. All rights reserved.
from .pixel_segment import pixel_segment_nll
from .puf_loss import PUFLoss, puf_modify
from .segsort_loss import SegmentMemory, SegSortLoss

__all__ = [
    'PUFLoss',
    'SegSortLoss',
    'SegmentMemory',
    'pixel_segment_nll',
    'puf_modify',
]
