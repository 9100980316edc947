# Copyright (c) mmseg-spml contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch

from mmseg_spml.refinement import (
    embedding_affinity,
    normalize_by_max,
    random_walk,
    restrict_to_classes,
    transition_matrix,
)


def naive_affinity(emb, beta):
    """(D, h, w) float64 numpy -> (hw, hw) with explicit loops."""
    d = emb.shape[0]
    flat = emb.reshape(d, -1)
    hw = flat.shape[1]
    unit = [flat[:, i] / math.sqrt(sum(x * x for x in flat[:, i]))
            for i in range(hw)]  # fmt: skip
    aff = np.zeros((hw, hw))
    for i in range(hw):
        for j in range(hw):
            cos = sum(unit[i][k] * unit[j][k] for k in range(d))
            aff[i, j] = math.exp(beta * (cos - 1))
    return aff


def naive_walk(scores, aff, steps=1):
    """scores (C, h, w), aff (hw, hw) -> scores @ T^steps, explicit loops."""
    hw = aff.shape[0]
    trans = np.zeros_like(aff)
    for j in range(hw):
        col = sum(aff[i, j] for i in range(hw))
        for i in range(hw):
            trans[i, j] = aff[i, j] / col
    walk = np.linalg.matrix_power(trans, steps)
    c = scores.shape[0]
    flat = scores.reshape(c, hw)
    out = np.zeros((c, hw))
    for ci in range(c):
        for j in range(hw):
            out[ci, j] = sum(flat[ci, i] * walk[i, j] for i in range(hw))
    return out.reshape(scores.shape)


def test_transition_matrix_columns_sum_to_one():
    aff = torch.rand(2, 5, 5, dtype=torch.float64)
    aff[1, :, 3] = 0  # an all-zero column stays zero, no NaN
    trans = transition_matrix(aff)
    sums = trans.sum(dim=1)
    assert torch.allclose(sums[0], torch.ones(5, dtype=torch.float64))
    assert torch.allclose(sums[1, [0, 1, 2, 4]], torch.ones(4).double())
    assert sums[1, 3] == 0
    assert torch.isfinite(trans).all()


def test_embedding_affinity_matches_naive():
    emb = torch.randn(2, 4, 2, 3, dtype=torch.float64)
    aff = embedding_affinity(emb, beta=3.0)
    assert aff.shape == (2, 6, 6)
    for n in range(2):
        expected = naive_affinity(emb[n].numpy(), 3.0)
        np.testing.assert_allclose(aff[n].numpy(), expected, rtol=1e-10)
    assert torch.allclose(torch.diagonal(aff, dim1=1, dim2=2), aff.new_ones(1))


@pytest.mark.parametrize('num_squarings', [0, 2])
def test_random_walk_matches_naive(num_squarings):
    torch.manual_seed(0)
    emb = torch.randn(2, 4, 2, 3, dtype=torch.float64)
    scores = torch.rand(2, 3, 2, 3, dtype=torch.float64)
    out = random_walk(scores, emb, beta=2.0, num_squarings=num_squarings)
    assert out.shape == (2, 3, 2, 3)
    for n in range(2):
        aff = naive_affinity(emb[n].numpy(), 2.0)
        expected = naive_walk(scores[n].numpy(), aff, 2**num_squarings)
        np.testing.assert_allclose(out[n].numpy(), expected, rtol=1e-10)


def test_random_walk_stays_inside_clusters():
    # Left two columns embed to e0, right column to e1 (orthogonal).
    emb = torch.zeros(1, 2, 2, 3)
    emb[0, 0, :, :2] = 1
    emb[0, 1, :, 2] = 1
    scores = torch.zeros(1, 2, 2, 3)
    scores[0, 0, 0, 0] = 1.0  # class 0 seeded in the left cluster
    scores[0, 1, 1, 2] = 0.5  # class 1 seeded in the right cluster
    out = random_walk(scores, emb)  # beta 100, T^64
    # Within a cluster the affinities are all 1: the walk averages.
    assert torch.allclose(out[0, 0, :, :2], torch.full((2, 2), 0.25))
    assert torch.allclose(out[0, 1, :, 2], torch.full((2,), 0.25))
    # exp(-100) across clusters: nothing leaks.
    assert out[0, 0, :, 2].abs().max() < 1e-30
    assert out[0, 1, :, :2].abs().max() < 1e-30


def test_random_walk_flip_averages_affinities():
    torch.manual_seed(1)
    emb = torch.randn(1, 4, 2, 3, dtype=torch.float64)
    flip_emb = torch.randn(1, 4, 2, 3, dtype=torch.float64)
    scores = torch.rand(1, 2, 2, 3, dtype=torch.float64)
    out = random_walk(
        scores, emb, beta=2.0, num_squarings=0, flip_embeddings=flip_emb
    )
    aff = 0.5 * (
        naive_affinity(emb[0].numpy(), 2.0)
        + naive_affinity(flip_emb[0].flip(-1).numpy(), 2.0)
    )
    expected = naive_walk(scores[0].numpy(), aff)
    np.testing.assert_allclose(out[0].numpy(), expected, rtol=1e-10)
    # The flip is undone: not flipping back gives another walk.
    wrong = 0.5 * (
        naive_affinity(emb[0].numpy(), 2.0)
        + naive_affinity(flip_emb[0].numpy(), 2.0)
    )
    wrong = naive_walk(scores[0].numpy(), wrong)
    assert not np.allclose(out[0].numpy(), wrong)


def test_random_walk_power_reproduces_reference_averaging():
    torch.manual_seed(2)
    emb = torch.randn(1, 4, 2, 3, dtype=torch.float64)
    flip_emb = torch.randn(1, 4, 2, 3, dtype=torch.float64)
    scores = torch.rand(1, 2, 2, 3, dtype=torch.float64)
    out = random_walk(
        scores,
        emb,
        beta=4.0,
        num_squarings=0,
        flip_embeddings=flip_emb,
        power=4.0,
    )
    # The reference: mean of exp(scale (cos - 1)), then ** power.
    aff = 0.5 * (
        naive_affinity(emb[0].numpy(), 1.0)
        + naive_affinity(flip_emb[0].flip(-1).numpy(), 1.0)
    )
    expected = naive_walk(scores[0].numpy(), aff**4)
    np.testing.assert_allclose(out[0].numpy(), expected, rtol=1e-10)
    # Without flip the power does not matter.
    a = random_walk(scores, emb, beta=4.0, num_squarings=1, power=4.0)
    b = random_walk(scores, emb, beta=4.0, num_squarings=1)
    assert torch.allclose(a, b)


def test_random_walk_max_pixels_and_shapes():
    with pytest.raises(ValueError, match='Downsample'):
        random_walk(torch.rand(1, 2, 4, 5), torch.rand(1, 3, 4, 5),
                    max_pixels=19)  # fmt: skip
    with pytest.raises(ValueError, match='share'):
        random_walk(torch.rand(1, 2, 4, 5), torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match='flip_embeddings'):
        random_walk(torch.rand(1, 2, 4, 5), torch.rand(1, 3, 4, 5),
                    flip_embeddings=torch.rand(1, 2, 4, 5))  # fmt: skip


def test_restrict_and_normalize():
    scores = torch.tensor([[[[0.2, 0.4]], [[0.1, 0.05]], [[0.0, 0.0]]]])
    present = torch.tensor([[True, False, True]])
    out = restrict_to_classes(scores, present)
    assert torch.equal(out[0, 0], scores[0, 0])
    assert torch.equal(out[0, 1], torch.zeros(1, 2))
    norm = normalize_by_max(scores)
    assert torch.allclose(norm[0, 0], torch.tensor([[0.5, 1.0]]))
    assert torch.allclose(norm[0, 1], torch.tensor([[1.0, 0.5]]))
    assert torch.equal(norm[0, 2], torch.zeros(1, 2))  # no NaN
    with pytest.raises(ValueError):
        restrict_to_classes(scores, present[:, :2])
