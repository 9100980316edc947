# Copyright (c) mmseg-spml contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmseg_spml.clustering import (
    grid_cluster_labels,
    location_features,
    spherical_kmeans,
)


def naive_spherical_kmeans(features, valid, grid, num_iters):
    """One image at a time, one pixel at a time, in numpy float64."""
    n, d, h, w = features.shape
    k = grid[0] * grid[1]
    out = np.full((n, h, w), -1)
    init = grid_cluster_labels(grid, h, w).numpy()
    for b in range(n):
        feats = features[b].numpy().astype(np.float64).reshape(d, -1).T
        feats /= np.maximum(
            np.linalg.norm(feats, axis=1, keepdims=True), 1e-12
        )
        mask = valid[b].numpy().reshape(-1)
        labels = init.reshape(-1).copy()
        for _ in range(num_iters):
            centres = np.zeros((k, d))
            counts = np.zeros(k)
            for p in range(h * w):
                if mask[p]:
                    centres[labels[p]] += feats[p]
                    counts[labels[p]] += 1
            norms = np.linalg.norm(centres, axis=1, keepdims=True)
            centres = centres / np.maximum(norms, 1e-12)
            for p in range(h * w):
                sims = [
                    centres[c] @ feats[p] if counts[c] else -np.inf
                    for c in range(k)
                ]
                labels[p] = int(np.argmax(sims))
        labels[~mask] = -1
        out[b] = labels.reshape(h, w)
    return out


def test_location_features_and_grid():
    loc = location_features(3, 5)
    assert loc.shape == (2, 3, 5)
    assert loc[0, :, 0].tolist() == [-0.5, 0.0, 0.5]
    assert loc[1, 0].tolist() == [-0.5, -0.25, 0.0, 0.25, 0.5]
    # Reference layout: rounded linspace, half-width border blocks.
    grid = grid_cluster_labels((2, 3), 4, 6)
    assert grid.tolist() == [
        [0, 0, 1, 1, 2, 2],
        [0, 0, 1, 1, 2, 2],
        [3, 3, 4, 4, 5, 5],
        [3, 3, 4, 4, 5, 5],
    ]
    # linspace(0, 2, 5) = [0, .5, 1, 1.5, 2] rounds half to even.
    column = grid_cluster_labels((3, 3), 5, 5)[:, 0].tolist()
    assert column == [0, 0, 3, 6, 6]


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('num_iters', [1, 5, 30])
def test_matches_naive_reference(seed, num_iters):
    # 30 iterations: converged long before, so the early exit is taken.
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(3, 4, 7, 9, generator=g)
    valid = torch.rand(3, 7, 9, generator=g) > 0.2
    valid[2] = False  # an all-ignore image
    ours = spherical_kmeans(features, valid, grid=(2, 3), num_iters=num_iters)
    ref = naive_spherical_kmeans(features, valid, (2, 3), num_iters)
    np.testing.assert_array_equal(ours.numpy(), ref)
    assert (ours[2] == -1).all()


def test_separates_obvious_clusters_and_keeps_empty_ones_empty():
    features = torch.zeros(1, 2, 4, 4)
    features[0, 0, :, :2] = 1.0  # left half points along x
    features[0, 1, :, 2:] = 1.0  # right half along y
    valid = torch.ones(1, 4, 4, dtype=torch.bool)
    labels = spherical_kmeans(features, valid, grid=(2, 2), num_iters=3)
    left, right = labels[0, :, :2], labels[0, :, 2:]
    assert left.unique().numel() <= 2 and right.unique().numel() <= 2
    assert not set(left.unique().tolist()) & set(right.unique().tolist())
    # A single cluster: everything valid is cluster 0.
    one = spherical_kmeans(features, valid, grid=(1, 1), num_iters=2)
    assert (one == 0).all()


def test_deterministic_and_gradient_free():
    features = torch.randn(2, 8, 6, 6, requires_grad=True)
    valid = torch.ones(2, 6, 6, dtype=torch.bool)
    a = spherical_kmeans(features, valid)
    b = spherical_kmeans(features, valid)
    assert torch.equal(a, b) and not a.requires_grad
