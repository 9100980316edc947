# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPML's SegSort loss in one place: the pixel-to-segment likelihood
(:mod:`.pixel_segment`), the four relations that choose each pixel's
positive and negative segments (:mod:`.relations`), and the loss that
clusters, builds segments and prototypes, keeps the memory and sums the
relations (:mod:`.segsort_loss`)."""

from .pixel_segment import MAX_CONCENTRATION, pixel_segment_nll
from .relations import (
    BaseRelation,
    FeatureAffinity,
    LowLevelSimilarity,
    SegmentBatch,
    SemanticAnnotation,
    SemanticCooccurrence,
)
from .segsort_loss import SegmentMemory, SegSortLoss

__all__ = [
    'MAX_CONCENTRATION',
    'BaseRelation',
    'FeatureAffinity',
    'LowLevelSimilarity',
    'SegSortLoss',
    'SegmentBatch',
    'SegmentMemory',
    'SemanticAnnotation',
    'SemanticCooccurrence',
    'pixel_segment_nll',
]
