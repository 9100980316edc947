# Copyright (c) mmseg-spml contributors. All rights reserved.
from .pixel_segment import pixel_segment_nll

__all__ = ['pixel_segment_nll']
