# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmseg_spml.clustering import (
    make_segments,
    segment_prototypes,
    unique_rows,
)


def _batch():
    clusters = torch.tensor([[[0, 0, 1], [0, 1, 1]], [[0, 0, 0], [-1, 2, 2]]])
    labels = torch.tensor([[[3, 3, 3], [254, 3, 3]], [[1, 1, 1], [255, 1, 1]]])
    superpixels = torch.tensor(
        [[[0, 1, 1], [0, 1, 1]], [[5, 5, 5], [5, 5, 5]]]
    )
    return clusters, labels, superpixels


def test_segments_hand_computed():
    clusters, labels, superpixels = _batch()
    seg = make_segments(clusters, labels, superpixels)
    # Image 0: (c0,l3,s0), (c0,l3,s1), (c0,l254,s0), (c1,l3,s1);
    # image 1: (c0,l1,s5), (c2,l1,s5).
    expected = torch.tensor([[[0, 1, 3], [2, 3, 3]], [[4, 4, 4], [-1, 5, 5]]])
    assert torch.equal(seg.ids, expected)
    assert seg.num == 6
    assert seg.labels.tolist() == [3, 3, 254, 3, 1, 1]
    assert seg.images.tolist() == [0, 0, 0, 0, 1, 1]
    # Without superpixels, only cluster and label split.
    plain = make_segments(clusters, labels)
    assert plain.num == 5


def test_prototypes_are_normalised_means_with_gradients():
    clusters, labels, superpixels = _batch()
    seg = make_segments(clusters, labels, superpixels)
    emb = torch.randn(2, 4, 2, 3, requires_grad=True)
    protos = segment_prototypes(emb, seg.ids, seg.num)
    assert protos.shape == (6, 4)
    for s in range(seg.num):
        mask = seg.ids == s
        pixels = emb.permute(0, 2, 3, 1)[mask]
        expected = F.normalize(pixels.sum(0), dim=0)
        torch.testing.assert_close(protos[s], expected)
    protos.sum().backward()
    assert emb.grad is not None
    # The ignored pixel receives no gradient.
    assert (emb.grad[1, :, 1, 0] == 0).all()


def test_all_invalid_batch_has_no_segments():
    clusters = torch.full((2, 3, 3), -1)
    seg = make_segments(clusters, torch.zeros(2, 3, 3, dtype=torch.long))
    assert seg.num == 0 and (seg.ids == -1).all()
    protos = segment_prototypes(torch.randn(2, 5, 3, 3), seg.ids, seg.num)
    assert protos.shape == (0, 5)


@pytest.mark.parametrize('high', [5, 2**61])
def test_unique_rows_matches_torch_unique_dim0(high):
    # 2**61 per column overflows the int64 key: the column-folding path.
    g = torch.Generator().manual_seed(0)
    rows = torch.randint(0, 4, (200, 3), generator=g)
    rows[:, 1] *= high
    uniq, inverse = unique_rows(rows)
    ref_uniq, ref_inverse = torch.unique(rows, dim=0, return_inverse=True)
    assert torch.equal(uniq, ref_uniq)
    assert torch.equal(inverse, ref_inverse)
    empty_uniq, empty_inverse = unique_rows(rows[:0])
    assert empty_uniq.shape == (0, 3) and empty_inverse.shape == (0,)
