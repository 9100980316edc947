# Copyright (c) mmseg-spml contributors. All rights reserved.
from .label_resize import downsample_weak_labels

__all__ = ['downsample_weak_labels']
