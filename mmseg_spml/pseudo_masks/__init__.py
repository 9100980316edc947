# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pure functions that turn class activation maps into pseudo labels."""

from .cam import (
    binary_foreground,
    cams_to_labels,
    coefficient_of_variation_smoothing,
    normalize_cams,
    normalize_cams_in_boxes,
    pmm_pseudo_labels,
    proportional_pseudo_mask,
)

__all__ = [
    'binary_foreground',
    'cams_to_labels',
    'coefficient_of_variation_smoothing',
    'normalize_cams',
    'normalize_cams_in_boxes',
    'pmm_pseudo_labels',
    'proportional_pseudo_mask',
]
