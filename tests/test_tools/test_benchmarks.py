# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The benchmark scripts run end to end at tiny sizes (nothing is timed
here: the numbers come from running the scripts themselves)."""

from tests.helpers.tools import load_tool


def test_segsort_loss_benchmark_prints_a_row(capsys):
    tool = load_tool('benchmark/segsort_loss.py')
    args = ['--batch', '2', '--size', '32', '--grid', '2', '--repeats', '1']
    assert tool.main(args + ['--superpixel-size', '8']) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1]
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert cells[:5] == ['cpu', '2', '64', '32', '2x2']
    assert int(cells[5]) > 0  # the memory bank was filled
    assert float(cells[6]) > 0 and float(cells[7]) > 0


def test_train_step_benchmark_prints_both_models_and_the_ratio(capsys):
    tool = load_tool('benchmark/spml_train_step.py')
    args = ['--batch', '2', '--size', '64', '--repeats', '1', '--warmup', '0']
    assert tool.main(args) == 0
    out = capsys.readouterr().out
    assert '| DeepLabV3 CE |' in out and '| SPML |' in out
    assert 'SPML / CE time ratio:' in out
