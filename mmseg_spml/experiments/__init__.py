# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Experiment drivers: chains of the repository's tools run in
subprocesses, each stage cached in its work dir (the demo's runs and its
results table, ``tools/run_demo.py``; SPML's stages end to end,
``tools/spml_pipeline.py``; PMM's pseudo masks on the demo data,
``tools/run_pmm_demo.py``)."""

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
from .pmm_demo import PMMDemo, format_pmm_tables, label_method_args
from .spml_pipeline import (
    PipelineSettings,
    SPMLPipeline,
    format_pipeline_summary,
)

__all__ = [
    'BASELINE_LABELS',
    'TYPES',
    'DemoSeed',
    'DemoSettings',
    'PMMDemo',
    'PipelineSettings',
    'SPMLPipeline',
    'baseline_name',
    'format_pipeline_summary',
    'format_pmm_tables',
    'format_table',
    'label_folder_options',
    'label_method_args',
    'relation_options',
]
