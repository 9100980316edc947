# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Training-time machinery: hooks."""

from .hooks import *  # noqa: F401,F403
