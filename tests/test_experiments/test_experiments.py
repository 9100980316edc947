# Copyright (c) mmseg-spml contributors. All rights reserved.
"""mmseg_spml.experiments: the option builders and result tables of the
demo, pipeline and PMM drivers (their runs: tests/test_tools)."""

import os.path as osp

import pytest

from mmseg_spml.experiments import (
    format_pipeline_summary,
    format_pmm_tables,
    label_method_args,
    relation_options,
)
from tests.helpers.tools import ROOT

STAGE1 = osp.join(
    ROOT,
    'configs/spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py',
)


def test_relation_options_take_the_paper_setting_of_the_type():
    prefix = 'model.decode_head.segsort.relations'
    # Points: every relation at weight 0.1 (the paper's VOC point config).
    assert relation_options(STAGE1, 'points', ROOT) == [
        f'{prefix}.0.concentration=6',
        f'{prefix}.0.loss_weight=0.1',
        f'{prefix}.1.concentration=8',
        f'{prefix}.1.loss_weight=0.1',
        f'{prefix}.2.concentration=16',
        f'{prefix}.2.loss_weight=0.1',
    ]
    # The CAM-free box prior takes the box setting's.
    boxes = relation_options(STAGE1, 'boxes', ROOT)
    assert relation_options(STAGE1, 'box-prior', ROOT) == boxes
    assert f'{prefix}.0.loss_weight=0.3' in boxes


def test_relation_options_refuse_other_relations(tmp_path):
    config = tmp_path / 'two_relations.py'
    config.write_text(
        f"_base_ = ['{STAGE1}']\n"
        'model = dict(decode_head=dict(segsort=dict(relations=[\n'
        "    dict(type='SemanticAnnotation', concentration=6),\n"
        "    dict(type='LowLevelSimilarity', concentration=16)])))\n"
    )
    with pytest.raises(ValueError, match='must match one to one'):
        relation_options(str(config), 'points', ROOT)


def test_label_method_args():
    assert label_method_args('cvs+ppmg', 'imgs') == ['--method', 'cvs+ppmg']
    assert label_method_args('band+crf', 'imgs') == [
        '--method',
        'band',
        '--crf',
        'imgs',
        '--img-suffix',
        '.jpg',
    ]
    with pytest.raises(ValueError, match="unknown method 'crf'"):
        label_method_args('crf', 'imgs')


def test_format_pipeline_summary_lists_every_round():
    def miou(value):
        return dict(mIoU=value)

    result = dict(
        stage1=miou(40.0),
        pseudo=miou(70.5),
        raw=miou(60.25),
        stage2=miou(50.0),
        round2=dict(pseudo=None, stage2=miou(52.0)),
        round3=dict(pseudo=None, stage2=miou(53.0)),
        final=miou(53.0),
    )
    assert format_pipeline_summary(result).splitlines() == [
        'stage 1 classifier mIoU (val): 40.00',
        'raw pseudo labels mIoU (train): 60.25',
        'refined pseudo labels mIoU (train): 70.50',
        'stage 2 mIoU (val): 50.00',
        'round 2 stage 2 mIoU (val): 52.00',
        'round 3 stage 2 mIoU (val): 53.00',
        'final mIoU (val): 53.00',
    ]
    # Without scores (no --gt-dir) and one round.
    lines = format_pipeline_summary(
        dict(stage1=miou(1), pseudo=None, stage2=miou(2), final=miou(2))
    ).splitlines()
    assert lines == [
        'stage 1 classifier mIoU (val): 1.00',
        'stage 2 mIoU (val): 2.00',
        'final mIoU (val): 2.00',
    ]


def test_format_pmm_tables():
    mask = dict(mIoU=42.0, mPrecision=58.1, mRecall=67.2, coverage=70.3)
    seg = dict(mIoU=30.0, mAcc=40.0, aAcc=80.0)
    lines = format_pmm_tables(
        dict(mIoU=33.31),
        [dict(method='band+crf', **mask)],
        [dict(loss='PUF', **seg)],
    ).splitlines()
    assert lines[0].endswith('mIoU 33.31')
    assert '| band+crf | 42.00 | 58.10 | 67.20 | 70.30 |' in lines
    assert 'on the cvs+ppmg pseudo masks' in lines[-5]
    assert lines[-1] == '| PUF | 30.00 | 40.00 | 80.00 |'
