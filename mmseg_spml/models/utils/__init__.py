# Copyright (c) mmseg-spml contributors. All rights reserved.
from .label_resize import downsample_weak_labels
from .preprocess import preprocess_sample
from .tags import tags_to_multi_hot

__all__ = ['downsample_weak_labels', 'preprocess_sample', 'tags_to_multi_hot']
