# Copyright (c) mmseg-spml contributors. All rights reserved.
from .demo_scene_generator import (
    DEMO_CLASSES,
    DEMO_PALETTE,
    DemoSceneConfig,
    default_demo_root,
    ensure_demo_scenes,
    render_scene,
    write_demo_scenes,
)
from .demo_scenes import DemoScenesDataset

__all__ = [
    'DEMO_CLASSES',
    'DEMO_PALETTE',
    'DemoSceneConfig',
    'DemoScenesDataset',
    'default_demo_root',
    'ensure_demo_scenes',
    'render_scene',
    'write_demo_scenes',
]
