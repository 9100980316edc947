# Copyright (c) mmseg-spml contributors. All rights reserved.
from .spml_head import (
    SPMLASPPHead,
    SPMLHeadMixin,
    SPMLPSPHead,
    SPMLSepASPPHead,
)

__all__ = ['SPMLASPPHead', 'SPMLHeadMixin', 'SPMLPSPHead', 'SPMLSepASPPHead']
