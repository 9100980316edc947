# Copyright (c) mmseg-spml contributors. All rights reserved.
from .efficientnet_lite import (
    PACKAGE_WEIGHTS,
    EfficientNetLite,
    load_efficientnet_lite_weights,
)

__all__ = [
    'EfficientNetLite',
    'PACKAGE_WEIGHTS',
    'load_efficientnet_lite_weights',
]
