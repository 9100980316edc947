# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pure functions that turn class activation maps into pseudo labels."""

from .boxes import box_normalized_cams, cam_in_box_labels
from .cam import (
    band_labels,
    binary_foreground,
    cams_to_labels,
    coefficient_of_variation_smoothing,
    normalize_cams,
    pmm_pseudo_labels,
    proportional_pseudo_mask,
)

__all__ = [
    'band_labels',
    'binary_foreground',
    'box_normalized_cams',
    'cam_in_box_labels',
    'cams_to_labels',
    'coefficient_of_variation_smoothing',
    'normalize_cams',
    'pmm_pseudo_labels',
    'proportional_pseudo_mask',
]
