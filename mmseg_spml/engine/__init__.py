# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Training-time machinery: hooks, optimizer wrappers."""

from .hooks import *  # noqa: F401,F403
from .optim_wrapper import SPMLAmpOptimWrapper  # noqa: F401
