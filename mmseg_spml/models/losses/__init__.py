# Copyright (c) mmseg-spml contributors. All rights reserved.
from .pixel_segment import pixel_segment_nll
from .segsort_loss import SegmentMemory, SegSortLoss

__all__ = ['SegSortLoss', 'SegmentMemory', 'pixel_segment_nll']
