# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.models.utils import downsample_weak_labels

U, V = UNLABELLED, IGNORE_INDEX


def test_cells_take_labelled_then_unlabelled_then_void():
    labels = torch.full((1, 4, 4), U)
    labels[0, 0, 0] = 3  # one click in the top-left cell
    labels[0, 0:2, 2:4] = torch.tensor([[1, 1], [2, V]])  # majority 1
    labels[0, 2:4, 0:2] = V  # void only
    labels[0, 3, 3] = 0  # one background click among unlabelled
    out = downsample_weak_labels(labels, (2, 2), num_classes=4)
    assert out.tolist() == [[[3, 1], [V, 0]]]
    # Nearest sampling (the old behaviour) loses the background click.
    nearest = F.interpolate(labels[None].float(), size=(2, 2)).long()[0]
    assert nearest.tolist() == [[[3, 1], [V, U]]]


def test_every_click_smaller_than_the_stride_survives():
    labels = torch.full((2, 32, 32), U)
    clicks = [(0, 5, 6, 1), (0, 17, 30, 2), (1, 3, 3, 0), (1, 29, 9, 4)]
    for n, y, x, c in clicks:
        labels[n, y, x] = c
    out = downsample_weak_labels(labels, (4, 4), num_classes=5)
    for n, y, x, c in clicks:
        assert out[n, y // 8, x // 8] == c
    assert (out != U).sum() == len(clicks)
    nearest = F.interpolate(labels[:, None].float(), size=(4, 4)).long()
    assert (nearest < 5).sum() < len(clicks)


def test_ties_go_to_the_lower_class_and_sizes_need_not_divide():
    labels = torch.tensor([[[2, 1, 5], [1, 2, 5], [U, U, V]]])
    # 3 -> 2: rows/cols 0, 1 -> cell 0 and row/col 2 -> cell 1.
    out = downsample_weak_labels(labels, (2, 2), num_classes=6)
    assert out.tolist() == [[[1, 5], [U, V]]]


def test_same_size_is_identity_and_values_above_c_count_as_unlabelled():
    labels = torch.tensor([[[0, 7], [V, U]]])
    assert downsample_weak_labels(labels, (2, 2), 3) is labels
    blocks = labels.repeat_interleave(2, 1).repeat_interleave(2, 2)
    out = downsample_weak_labels(blocks, (2, 2), 3)
    assert out.tolist() == [[[0, U], [V, U]]]


def test_bad_inputs():
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        downsample_weak_labels(torch.zeros(4, 4, dtype=torch.long), (2, 2), 3)
    with pytest.raises(ValueError, match='at most'):
        downsample_weak_labels(torch.zeros(1, 4, 4).long(), (8, 8), 3)
