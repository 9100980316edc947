# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Offline inference shared by the tools and tests: a trained model (one
builder, one checkpoint loader) and the training images, multi-scale CAMs,
the embedding and class scores pseudo labels start from, a prediction drawn
over its image, and checkpoints read safely and published."""

from mmseg_spml.models.segmentors import IRN_CAM_SCALES

from .cams import cam_test_cfg_of, image_cams
from .checkpoints import (
    load_checkpoint_file,
    publish_checkpoint,
    published_stem,
    strip_checkpoint,
)
from .knn_memory import image_memory
from .models import (
    build_trained_model,
    load_trained_weights,
    resolve_dataset_meta,
    training_images,
)
from .overlay import IMAGE_EXTENSIONS, draw_overlay, image_extension
from .pseudo_labels import (
    PSEUDO_LABEL_DEFAULTS,
    PseudoLabeler,
    embed_and_score,
    image_tags_of,
    pseudo_label_settings,
    seed_scores,
)

__all__ = [
    'PSEUDO_LABEL_DEFAULTS',
    'PseudoLabeler',
    'image_tags_of',
    'pseudo_label_settings',
    'IMAGE_EXTENSIONS',
    'IRN_CAM_SCALES',
    'cam_test_cfg_of',
    'build_trained_model',
    'draw_overlay',
    'image_extension',
    'load_trained_weights',
    'resolve_dataset_meta',
    'load_checkpoint_file',
    'publish_checkpoint',
    'published_stem',
    'strip_checkpoint',
    'embed_and_score',
    'image_cams',
    'image_memory',
    'seed_scores',
    'training_images',
]
