# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pure torch refinement and inference of class scores: random walk, dense
CRF and KNN segment retrieval."""

from .crf import (
    crf_available,
    crf_label_map,
    dense_crf,
    dense_crf_downsampled,
)
from .knn import (
    MEMORY_KEYS,
    cluster_prototypes,
    image_prototypes,
    knn_search,
    knn_segment_scores,
    knn_vote,
    load_memory,
    save_memory,
)
from .random_walk import (
    embedding_affinity,
    normalize_by_max,
    random_walk,
    restrict_to_classes,
    transition_matrix,
)

__all__ = [
    'MEMORY_KEYS',
    'cluster_prototypes',
    'crf_available',
    'crf_label_map',
    'dense_crf',
    'dense_crf_downsampled',
    'embedding_affinity',
    'image_prototypes',
    'knn_search',
    'knn_segment_scores',
    'knn_vote',
    'load_memory',
    'normalize_by_max',
    'random_walk',
    'restrict_to_classes',
    'save_memory',
    'transition_matrix',
]
