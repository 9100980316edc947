# Copyright (c) mmseg-spml contributors. All rights reserved.
from .constants import IGNORE_INDEX, MAX_CLASSES, SUPERPIXEL_PAD, UNLABELLED
from .demo_scene_generator import (
    DEMO_CLASSES,
    DEMO_PALETTE,
    DemoSceneConfig,
    default_demo_root,
    ensure_demo_scenes,
    render_scene,
    write_demo_scenes,
)
from .demo_scenes import DemoScenesDataset, ensure_demo_weak_labels
from .densepose import DENSEPOSE_PALETTE, DensePosePartsDataset, FlipPartLabels
from .transforms import *  # noqa: F401,F403  (registers the transforms)
from .weak_seg_dataset import WeakSegDataset
from .weak_synthesis import (
    WEAK_TYPES,
    WeakAnnotation,
    image_seed,
    image_tags,
    synthesize_boxes,
    synthesize_points,
    synthesize_scribbles,
    synthesize_weak_labels,
)

__all__ = [
    'DENSEPOSE_PALETTE',
    'DensePosePartsDataset',
    'FlipPartLabels',
    'DEMO_CLASSES',
    'DEMO_PALETTE',
    'DemoSceneConfig',
    'DemoScenesDataset',
    'IGNORE_INDEX',
    'MAX_CLASSES',
    'SUPERPIXEL_PAD',
    'UNLABELLED',
    'WEAK_TYPES',
    'WeakAnnotation',
    'WeakSegDataset',
    'default_demo_root',
    'ensure_demo_scenes',
    'ensure_demo_weak_labels',
    'image_seed',
    'image_tags',
    'render_scene',
    'synthesize_boxes',
    'synthesize_points',
    'synthesize_scribbles',
    'synthesize_weak_labels',
    'write_demo_scenes',
]
