# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pure tensor functions: k-means, segments and prototypes."""

from .kmeans import grid_cluster_labels, location_features, spherical_kmeans
from .segments import (
    Segments,
    make_segments,
    segment_prototypes,
    unique_rows,
)

__all__ = [
    'Segments',
    'grid_cluster_labels',
    'location_features',
    'make_segments',
    'segment_prototypes',
    'spherical_kmeans',
    'unique_rows',
]
