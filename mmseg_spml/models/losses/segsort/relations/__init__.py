# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPML's four relations, each a registered, pluggable module."""

from .base import BaseRelation, SegmentBatch
from .feature_affinity import FeatureAffinity
from .low_level_similarity import LowLevelSimilarity
from .semantic_annotation import SemanticAnnotation
from .semantic_cooccurrence import SemanticCooccurrence

__all__ = [
    'BaseRelation',
    'FeatureAffinity',
    'LowLevelSimilarity',
    'SegmentBatch',
    'SemanticAnnotation',
    'SemanticCooccurrence',
]
