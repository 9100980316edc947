# Copyright (c) mmseg-spml contributors. All rights reserved.
from .formatting import (
    EXTRA_PIXEL_FIELDS,
    PackWeakSegInputs,
    PadExtraSegFields,
)
from .loading import LoadSuperpixels, LoadWeakAnnotations
from .superpixels import ComputeSuperpixels

__all__ = [
    'ComputeSuperpixels',
    'EXTRA_PIXEL_FIELDS',
    'LoadSuperpixels',
    'LoadWeakAnnotations',
    'PackWeakSegInputs',
    'PadExtraSegFields',
]
