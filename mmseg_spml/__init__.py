# Copyright (c) mmseg-spml contributors. All rights reserved.
"""mmseg-spml: weakly supervised semantic segmentation (SPML, PMM) for
MMSegmentation 1.x.

Importing the package registers every component in the ``mmseg``
registries; in a config::

    custom_imports = dict(imports=['mmseg_spml'], allow_failed_imports=False)

It also lets configs inherit ours as ``mmseg_spml::spml/<config>.py``
(parsed after the import, e.g. by our ``tools/train.py``).
"""

from . import apis, datasets, engine, models, utils  # noqa: F401
from .utils import register_checkpoint_safe_globals, register_package_configs
from .version import __version__

register_checkpoint_safe_globals()
register_package_configs()

__all__ = ['__version__']
