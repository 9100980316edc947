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
from .cam_files import cam_class_scores, load_cam_file, save_cam_file
from .irn import crf_band_labels

__all__ = [
    'band_labels',
    'binary_foreground',
    'box_normalized_cams',
    'cam_in_box_labels',
    'cam_class_scores',
    'cams_to_labels',
    'coefficient_of_variation_smoothing',
    'crf_band_labels',
    'load_cam_file',
    'normalize_cams',
    'pmm_pseudo_labels',
    'proportional_pseudo_mask',
    'save_cam_file',
]
