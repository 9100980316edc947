# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Label folders scored against ground truth (the library under
eval_pseudo_masks.py)."""

import math

import numpy as np
import pytest
from PIL import Image

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.pseudo_masks.evaluation import (
    class_names_of,
    evaluate_label_folders,
    format_scores_table,
    json_safe,
)


def _save(folder, name, array):
    folder.mkdir(exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(folder / f'{name}.png')


def test_two_images_hand_computed(tmp_path):
    pred, gt = tmp_path / 'pred', tmp_path / 'gt'
    _save(pred, 'a', [[0, 1, UNLABELLED]])
    _save(gt, 'a', [[0, 1, 1]])
    _save(pred, 'b', [[1, 0]])
    _save(gt, 'b', [[1, IGNORE_INDEX]])
    m = evaluate_label_folders(
        ['a', 'b'], str(pred), str(gt), ['bg', 'fg'], unlabelled='wrong'
    )
    # bg: TP 1, no FP/FN -> IoU 100; fg: TP 2, FN 1 (the miss) -> 66.67.
    assert m['per_class']['bg']['IoU'] == pytest.approx(100.0)
    assert m['per_class']['fg']['IoU'] == pytest.approx(200 / 3)
    assert (m['num_labelled'], m['num_pixels'], m['num_images']) == (3, 4, 2)
    assert m['coverage'] == pytest.approx(75.0)
    assert m['confusion_matrix'] == [[1, 0, 0], [0, 2, 1]]
    assert format_scores_table(m).splitlines()[-1] == (
        '| **mean** | 83.33 | 100.00 | 83.33 |'
    )
    with pytest.raises(FileNotFoundError, match=r'pred/c.png does not'):
        evaluate_label_folders(['c'], str(pred), str(gt), ['bg', 'fg'])


def test_class_names_and_json_safety(tmp_path):
    assert class_names_of(None, 21)[15] == 'person'
    assert class_names_of('sky, road', 2) == ['sky', 'road']
    (tmp_path / 'n.json').write_text('{"classes": ["a", "b"]}')
    assert class_names_of(str(tmp_path / 'n.json'), 2) == ['a', 'b']
    with pytest.raises(ValueError, match='got 2 class names'):
        class_names_of('a,b', 3)
    assert json_safe({'x': [math.nan, 1.0]}) == {'x': [None, 1.0]}
