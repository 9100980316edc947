# Copyright (c) mmseg-spml contributors. All rights reserved.
from .label_resize import downsample_weak_labels
from .tags import tags_to_multi_hot

__all__ = ['downsample_weak_labels', 'tags_to_multi_hot']
