# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Visual diagnostics: embedding PCA colours, segments, superpixels, labels
and predictions tiled into one strip per image."""

from .diagnostics import (
    ImageDiagnostics,
    check_spml_segmentor,
    eval_mode,
    kmeans_settings,
    render_diagnostics,
    resolve_palette,
    spml_diagnostics,
)
from .drawing import (
    colorize_labels,
    colorize_regions,
    default_palette,
    diagnostic_panel,
    embedding_to_rgb,
    overlay,
    resize_to,
    segment_boundaries,
)

__all__ = [
    'ImageDiagnostics',
    'check_spml_segmentor',
    'colorize_labels',
    'colorize_regions',
    'default_palette',
    'diagnostic_panel',
    'embedding_to_rgb',
    'eval_mode',
    'kmeans_settings',
    'overlay',
    'render_diagnostics',
    'resize_to',
    'resolve_palette',
    'segment_boundaries',
    'spml_diagnostics',
]
