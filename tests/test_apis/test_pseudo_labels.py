# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The pseudo-label settings and the labeler's argument checks."""

from types import SimpleNamespace

import pytest

from mmseg_spml.apis import (
    PSEUDO_LABEL_DEFAULTS,
    PseudoLabeler,
    pseudo_label_settings,
)


def test_settings_merge_config_and_command_line():
    plc = pseudo_label_settings(dict(crf=dict(max_pixels=64)), cams='cams')
    assert plc['crf'] == dict(max_pixels=64) and plc['cams'] == 'cams'
    assert plc['random_walk'] == PSEUDO_LABEL_DEFAULTS['random_walk']
    # None on the command line keeps the config's value.
    plc = pseudo_label_settings(dict(boxes='b.json'), boxes=None)
    assert plc['boxes'] == 'b.json'
    # The defaults are not shared with the result.
    plc['random_walk']['beta'] = 1.0
    assert PSEUDO_LABEL_DEFAULTS['random_walk']['beta'] == 100.0


def test_settings_errors():
    with pytest.raises(ValueError, match=r"unknown keys \['random_wlak'\]"):
        pseudo_label_settings(dict(random_wlak=None))
    with pytest.raises(ValueError, match='CAMs or a seed model, not both'):
        pseudo_label_settings(cams='c', seed_model=('cfg.py', 'm.pth'))


def test_labeler_needs_an_spml_head():
    model = SimpleNamespace(decode_head=SimpleNamespace(num_classes=3))
    with pytest.raises(ValueError, match='no SPML decode head'):
        PseudoLabeler(model, pseudo_label_settings())
