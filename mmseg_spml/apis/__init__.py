# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Offline inference shared by the tools and tests: a trained model and
the training images, multi-scale CAMs, the embedding and class scores
pseudo labels start from, and checkpoints read safely and published."""

from .cams import multi_scale_cams
from .checkpoints import (
    load_checkpoint_file,
    publish_checkpoint,
    published_stem,
    strip_checkpoint,
)
from .models import build_trained_model, training_images
from .pseudo_labels import embed_and_score, seed_scores

__all__ = [
    'build_trained_model',
    'load_checkpoint_file',
    'publish_checkpoint',
    'published_stem',
    'strip_checkpoint',
    'embed_and_score',
    'multi_scale_cams',
    'seed_scores',
    'training_images',
]
