# Copyright (c) mmseg-spml contributors. All rights reserved.
from .puf_loss import PUFLoss, puf_modify
from .segsort import (
    BaseRelation,
    FeatureAffinity,
    LowLevelSimilarity,
    SegmentBatch,
    SegmentMemory,
    SegSortLoss,
    SemanticAnnotation,
    SemanticCooccurrence,
    pixel_segment_nll,
)

__all__ = [
    'BaseRelation',
    'FeatureAffinity',
    'LowLevelSimilarity',
    'PUFLoss',
    'SegSortLoss',
    'SegmentBatch',
    'SegmentMemory',
    'SemanticAnnotation',
    'SemanticCooccurrence',
    'pixel_segment_nll',
    'puf_modify',
]
