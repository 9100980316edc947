# Copyright (c) mmseg-spml contributors. All rights reserved.
from .checkpoint import (
    checkpoint_safe_globals,
    register_checkpoint_safe_globals,
)
from .device import (
    AUTO_BACKEND,
    adapt_cfg_to_device,
    close_dist,
    init_cpu_dist,
    resolve_dist_backend,
)
from .package_config import register_package_configs

__all__ = [
    'AUTO_BACKEND',
    'adapt_cfg_to_device',
    'close_dist',
    'checkpoint_safe_globals',
    'init_cpu_dist',
    'register_checkpoint_safe_globals',
    'register_package_configs',
    'resolve_dist_backend',
]
