# Copyright (c) mmseg-spml contributors. All rights reserved.
import json
import os
import os.path as osp

import numpy as np
import pytest

from mmseg_spml.datasets.converters import VOC_LABEL_PALETTE
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.utils.io import save_label_png
from tests.helpers.tools import load_tool, python_tool, run

tool = load_tool('analysis_tools/eval_pseudo_masks.py')

V, U = IGNORE_INDEX, UNLABELLED
# Two images, 3 classes; together they hold the hand-computed example:
# per policy the same numbers as tests/test_pseudo_masks/test_metrics.py.
GTS = {
    'a': np.array([[0, 0, 1, 1]], np.uint8),
    'b': np.array([[2, 2, V, 1]], np.uint8),
}
PREDS = {
    'a': np.array([[0, 1, 1, U]], np.uint8),
    'b': np.array([[2, 0, 1, U]], np.uint8),
}


@pytest.fixture
def dirs(tmp_path):
    pred_dir, gt_dir = str(tmp_path / 'pred'), str(tmp_path / 'gt')
    for name in GTS:
        save_label_png(
            osp.join(pred_dir, name + '.png'), PREDS[name], VOC_LABEL_PALETTE
        )
        save_label_png(
            osp.join(gt_dir, name + '.png'), GTS[name], VOC_LABEL_PALETTE
        )
    return pred_dir, gt_dir


def _rows(out):
    """``{class: (IoU, Precision, Recall)}`` of the printed table."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if line.startswith('| ') and cells[0] != 'Class':
            rows[cells[0]] = tuple(cells[1:])
    return rows


# policy: (IoU, precision, recall) of classes 0, 1, 2, pixel accuracy
EXPECTED = {
    'ignore': ([1 / 3, 1 / 2, 1 / 2], [1 / 2, 1 / 2, 1], [1 / 2, 1, 1 / 2],
               3 / 5),
    'background': ([1 / 5, 1 / 4, 1 / 2], [1 / 4, 1 / 2, 1],
                   [1 / 2, 1 / 3, 1 / 2], 3 / 7),
    'wrong': ([1 / 3, 1 / 4, 1 / 2], [1 / 2, 1 / 2, 1],
              [1 / 2, 1 / 3, 1 / 2], 3 / 7),
}  # fmt: skip


@pytest.mark.parametrize('policy', list(EXPECTED))
def test_policies(dirs, tmp_path, capsys, policy):
    iou, precision, recall, acc = EXPECTED[policy]
    out_json = str(tmp_path / 'm' / 'metrics.json')
    args = [*dirs, '--num-classes', '3', '--unlabelled', policy]
    args += ['--class-names', 'bg,cat,dog', '--out', out_json]
    rc = tool.main(args)
    assert rc == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    for i, name in enumerate(['bg', 'cat', 'dog']):
        assert rows[name] == tuple(
            f'{100 * v[i]:.2f}' for v in (iou, precision, recall)
        )
    assert rows['**mean**'] == tuple(
        f'{100 * np.mean(v):.2f}' for v in (iou, precision, recall)
    )
    assert f'aAcc: {100 * acc:.2f}' in out
    assert 'coverage: 71.43 (5 of 7 non-void pixels labelled)' in out

    with open(out_json) as f:
        m = json.load(f)
    assert m['unlabelled'] == policy and m['num_images'] == 2
    assert m['num_pixels'] == 7
    assert m['coverage'] == pytest.approx(100 * 5 / 7)
    assert m['aAcc'] == pytest.approx(100 * acc)
    assert m['mIoU'] == pytest.approx(100 * np.mean(iou))
    assert m['per_class']['cat']['Recall'] == pytest.approx(100 * recall[1])
    assert np.array(m['confusion_matrix']).shape == (3, 4)


def test_split_nan_and_parallel(dirs, tmp_path, capsys):
    """A split picks the images; an absent class prints n/a and is null in
    the JSON; --nproc 2 gives the same numbers."""
    split = tmp_path / 'split.txt'
    split.write_text('a\n')
    names = tmp_path / 'names.json'
    names.write_text(json.dumps({'classes': ['bg', 'cat', 'dog', 'cow']}))
    out_json = str(tmp_path / 'metrics.json')
    args = [*dirs, '--num-classes', '4', '--split', str(split)]
    args += ['--class-names', str(names), '--out', out_json]
    assert tool.main(args) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows['cow'] == ('n/a', 'n/a', 'n/a')
    assert rows['dog'] == ('n/a', 'n/a', 'n/a')  # image b is not in the split
    assert rows['bg'] == ('50.00', '100.00', '50.00')
    with open(out_json) as f:
        m = json.load(f)
    assert m['per_class']['cow']['IoU'] is None
    assert m['num_images'] == 1 and m['num_pixels'] == 4

    assert tool.main([*dirs, '--num-classes', '3', '--nproc', '2']) == 0
    parallel = _rows(capsys.readouterr().out)
    assert tool.main([*dirs, '--num-classes', '3']) == 0
    serial = _rows(capsys.readouterr().out)
    assert parallel == serial and '0' in serial  # ids as default names


def test_voc_names_by_default(dirs, capsys):
    assert tool.main(list(dirs)) == 0
    rows = _rows(capsys.readouterr().out)
    assert 'background' in rows and 'tvmonitor' in rows
    assert rows['bird'] == ('n/a', 'n/a', 'n/a')


def test_clear_errors(dirs, tmp_path):
    pred_dir, gt_dir = dirs
    split = tmp_path / 'split.txt'
    split.write_text('a\nmissing\n')
    with pytest.raises(
        SystemExit,
        match=r'error: prediction file .*pred/missing\.png does not exist',
    ):
        tool.main([pred_dir, gt_dir, '--split', str(split)])

    save_label_png(osp.join(gt_dir, 'a.png'), np.zeros((2, 4), np.uint8))
    with pytest.raises(
        SystemExit,
        match=r'error: prediction .*pred/a\.png has shape \(1, 4\) but '
        r'ground truth .*gt/a\.png has shape \(2, 4\)',
    ):
        tool.main([pred_dir, gt_dir])

    save_label_png(osp.join(gt_dir, 'a.png'), np.array([[0, 5, U, V]], 'u1'))
    with pytest.raises(
        SystemExit, match=r'error: .*gt/a\.png: .*values \[5, 254\] outside'
    ):
        tool.main([pred_dir, gt_dir, '--num-classes', '3'])

    os.remove(osp.join(gt_dir, 'a.png'))
    with pytest.raises(SystemExit, match=r'gt/a\.png does not exist'):
        tool.main([pred_dir, gt_dir])
    with pytest.raises(SystemExit, match='2 class names for --num-classes 3'):
        tool.main(
            [pred_dir, gt_dir, '--num-classes', '3', '--class-names', 'a,b']
        )
    with pytest.raises(SystemExit, match='no images to evaluate'):
        tool.main([str(tmp_path), gt_dir])


def test_command_line(dirs, tmp_path):
    """The script as a user runs it: --help, an error's exit code, a run."""
    proc = run(
        python_tool('analysis_tools/eval_pseudo_masks.py', '--help'),
        str(tmp_path),
    )
    assert '--unlabelled' in proc.stdout and 'Examples:' in proc.stdout
    proc = run(
        python_tool(
            'analysis_tools/eval_pseudo_masks.py',
            dirs[0],
            str(tmp_path / 'no'),
        ),
        str(tmp_path),
        expect_rc=1,
    )
    assert 'error: label file' in proc.stdout and 'no/a.png' in proc.stdout
    proc = run(
        python_tool(
            'analysis_tools/eval_pseudo_masks.py', *dirs, '--num-classes', '3'
        ),
        str(tmp_path),
    )
    assert '| **mean** |' in proc.stdout
