# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Experiment drivers: chains of the repository's tools run in
subprocesses, each stage cached in its work dir (the demo's runs and its
results table, ``tools/run_demo.py``)."""

from .demo import (
    BASELINE_LABELS,
    TYPES,
    DemoSeed,
    DemoSettings,
    baseline_name,
    label_folder_options,
    relation_options,
)
from .demo_table import format_table

__all__ = [
    'BASELINE_LABELS',
    'TYPES',
    'DemoSeed',
    'DemoSettings',
    'baseline_name',
    'format_table',
    'label_folder_options',
    'relation_options',
]
