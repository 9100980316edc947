# Copyright (c) mmseg-spml contributors. All rights reserved.
import math
import sys

import numpy as np
import pytest
import torch

from mmseg_spml.refinement import (
    crf_available,
    crf_label_map,
    dense_crf,
    dense_crf_downsampled,
)

RED, BLUE = (200.0, 30.0, 30.0), (30.0, 30.0, 200.0)


def two_halves(h, w):
    """RGB (3, h, w) float64: red left half, blue right half."""
    image = torch.empty(3, h, w, dtype=torch.float64)
    image[:, :, : w // 2] = torch.tensor(RED, dtype=torch.float64)[
        :, None, None
    ]
    image[:, :, w // 2 :] = torch.tensor(BLUE, dtype=torch.float64)[
        :, None, None
    ]
    return image


def noisy_probs(c, h, w, seed=0):
    gen = torch.Generator().manual_seed(seed)
    p = torch.rand(c, h, w, generator=gen, dtype=torch.float64) + 0.05
    return p / p.sum(0, keepdim=True)


def naive_crf(image, probs, num_iters, gs, gw, bs, bsrgb, bw):
    """O(N^2) double loop of the same mean-field update, float64."""
    c, h, w = probs.shape
    pix = [(y, x) for y in range(h) for x in range(w)]
    rgb = image.numpy()
    logp = np.log(np.clip(probs.numpy(), 1e-5, 1))
    q = np.exp(logp) / np.exp(logp).sum(0, keepdims=True)
    for _ in range(num_iters):
        new = np.zeros_like(q)
        for yi, xi in pix:
            msg = [0.0] * c
            for yj, xj in pix:
                if (yi, xi) == (yj, xj):
                    continue
                dp = (yi - yj) ** 2 + (xi - xj) ** 2
                dc = sum(
                    (rgb[k, yi, xi] - rgb[k, yj, xj]) ** 2 for k in range(3)
                )
                kern = gw * math.exp(-dp / (2 * gs**2)) + bw * math.exp(
                    -dp / (2 * bs**2) - dc / (2 * bsrgb**2)
                )
                for ci in range(c):
                    msg[ci] += kern * q[ci, yj, xj]
            total = sum(msg)
            logits = [logp[ci, yi, xi] - (total - msg[ci]) for ci in range(c)]
            top = max(logits)
            ex = [math.exp(v - top) for v in logits]
            for ci in range(c):
                new[ci, yi, xi] = ex[ci] / sum(ex)
        q = new
    return q


@pytest.mark.parametrize(
    'params',
    [
        (1.0, 3.0, 67.0, 3.0, 4.0),  # reference settings
        (1.5, 0.7, 2.0, 150.0, 0.9),  # colour differences matter
    ],
)
def test_dense_crf_matches_naive(params):
    image = two_halves(4, 4)
    image[:, 1, 1] += 40  # not perfectly uniform
    probs = noisy_probs(3, 4, 4)
    out = dense_crf(image, probs, 2, *params, backend='torch')
    expected = naive_crf(image, probs, 2, *params)
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-12)
    # The CRF changed something (the check can fail).
    assert not np.allclose(expected, probs.numpy(), atol=1e-3)


def test_dense_crf_iterations_are_distributions():
    image = two_halves(4, 6)
    probs = noisy_probs(3, 4, 6, seed=1)
    for num_iters in range(1, 4):
        out = dense_crf(image, probs, num_iters, backend='torch')
        assert out.shape == (3, 4, 6)
        assert torch.allclose(out.sum(0), torch.ones(4, 6).double())
        assert (out >= 0).all()
    # Unnormalised scores (e.g. after a random walk) give distributions.
    out = dense_crf(
        image.to(torch.uint8), 0.3 * probs.float(), 2, backend='torch'
    )
    assert out.dtype == torch.float32
    assert torch.allclose(out.sum(0), torch.ones(4, 6))


def test_dense_crf_zero_weights_returns_input():
    probs = noisy_probs(3, 4, 4, seed=2)
    out = dense_crf(
        two_halves(4, 4),
        probs,
        gaussian_weight=0.0,
        bilateral_weight=0.0,
        backend='torch',
    )
    assert torch.allclose(out, probs, rtol=1e-12)


def test_dense_crf_flips_wrong_pixel_in_uniform_region():
    h, w = 6, 6
    image = two_halves(h, w)
    probs = torch.empty(2, h, w, dtype=torch.float64)
    probs[0, :, : w // 2], probs[0, :, w // 2 :] = 0.8, 0.2
    probs[0, 2, 1] = 0.3  # wrong label inside the red half
    probs[1] = 1 - probs[0]
    assert probs.argmax(0)[2, 1] == 1
    expected = torch.zeros(h, w, dtype=torch.long)
    expected[:, w // 2 :] = 1
    for num_iters in (1, 2, 3, 10):  # odd counts too: no oscillation
        out = dense_crf(image, probs, num_iters, backend='torch')
        assert torch.equal(out.argmax(0), expected)


def test_dense_crf_chunked_equals_unchunked():
    image = two_halves(4, 5)
    image[:, 2, 3] = 90
    probs = noisy_probs(3, 4, 5, seed=3)
    full = dense_crf(image, probs, 3, chunk_size=1024, backend='torch')
    for chunk_size in (1, 7):
        out = dense_crf(
            image, probs, 3, chunk_size=chunk_size, backend='torch'
        )
        assert torch.allclose(out, full, rtol=1e-12, atol=1e-14)


def test_dense_crf_limits_and_backends(monkeypatch):
    image, probs = two_halves(4, 4), noisy_probs(2, 4, 4)
    with pytest.raises(ValueError, match='Downsample'):
        dense_crf(image, probs, max_pixels=15, backend='torch')
    with pytest.raises(ValueError, match='backend'):
        dense_crf(image, probs, backend='cuda')
    with pytest.raises(ValueError, match='share H and W'):
        dense_crf(image, probs[:, :3])
    with pytest.raises(ValueError, match=r'\(3, H, W\)'):
        dense_crf(image[:2], probs)
    # Without the optional package: a clear error, and 'auto' is 'torch'.
    monkeypatch.setitem(sys.modules, 'pydensecrf.densecrf', None)
    assert not crf_available()
    with pytest.raises(ImportError, match='pip install'):
        dense_crf(image, probs, backend='pydensecrf')
    auto = dense_crf(image, probs, backend='auto')
    assert torch.equal(auto, dense_crf(image, probs, backend='torch'))


def test_downsampled_crf_runs_at_the_cap_and_returns_the_image_size():
    g = torch.Generator().manual_seed(0)
    image = torch.randint(0, 256, (3, 8, 12), generator=g).float()
    scores = torch.rand(3, 4, 6, generator=g)
    # Large enough cap: the same as dense_crf on the upsampled scores.
    out = dense_crf_downsampled(image, scores, max_pixels=96, num_iters=2)
    up = torch.nn.functional.interpolate(
        scores[None], size=(8, 12), mode='bilinear', align_corners=False
    )[0]
    ref = dense_crf(image, up / up.sum(0, keepdim=True), num_iters=2)
    torch.testing.assert_close(out, ref)
    # A small cap: refined at 4x6, returned at 8x12, still probabilities.
    small = dense_crf_downsampled(image, scores, max_pixels=24, num_iters=2)
    assert small.shape == (3, 8, 12)
    torch.testing.assert_close(small.sum(0), torch.ones(8, 12))


def test_pydensecrf_backend_agrees_with_the_exact_torch_crf():
    """The optional permutohedral backend (installed by ``make setup``)
    sharpens a blurred, noisy boundary onto the colour edge as the exact
    torch mean field does."""
    pytest.importorskip('pydensecrf.densecrf')
    h, w = 24, 24
    image = two_halves(h, w)
    g = torch.Generator().manual_seed(0)
    ramp = torch.sigmoid(torch.linspace(-3, 3, w) * 0.7).expand(h, w)
    fg = (ramp + 0.25 * torch.randn(h, w, generator=g)).clamp(0.01, 0.99)
    probs = torch.stack([1 - fg, fg]).double()
    truth = torch.zeros(h, w, dtype=torch.long)
    truth[:, w // 2 :] = 1
    assert (probs.argmax(0) != truth).sum() > 10
    exact = dense_crf(image, probs, backend='torch')
    approx = dense_crf(image, probs, backend='pydensecrf')
    assert approx.shape == probs.shape and approx.dtype == probs.dtype
    assert torch.allclose(approx.sum(0), torch.ones(h, w).double(), atol=1e-5)
    assert torch.equal(exact.argmax(0), truth)
    assert torch.equal(approx.argmax(0), truth)
    assert torch.equal(dense_crf(image, probs, backend='auto'), approx)


@pytest.mark.parametrize('backend', ['torch', 'auto'])
def test_crf_label_map_moves_labels_to_the_colour_edge(backend):
    image = two_halves(16, 16)
    labels = torch.zeros(16, 16, dtype=torch.long)
    labels[:, 8:] = 1
    wrong = labels.clone()
    wrong[:, 8:11] = 0  # label 0 spills 3 columns into the blue half
    refined = crf_label_map(image, wrong, 2, backend=backend)
    assert refined.dtype == torch.long
    assert torch.equal(refined, labels)


def test_crf_label_map_single_label_and_errors():
    image = two_halves(4, 4)
    labels = torch.zeros(4, 4, dtype=torch.long)
    assert torch.equal(crf_label_map(image, labels, 1), labels)
    bad = labels.clone()
    bad[0, 0] = 2
    with pytest.raises(ValueError, match=r'lie in \[0, 2\), got \[0, 2\]'):
        crf_label_map(image, bad, 2)
    with pytest.raises(ValueError, match='must be integers'):
        crf_label_map(image, labels.float(), 2)
    with pytest.raises(ValueError, match=r'\(H, W\) of the image'):
        crf_label_map(image, labels[:3], 2)
    with pytest.raises(ValueError, match=r'gt_prob must lie in \(1/2, 1\)'):
        crf_label_map(image, labels, 2, gt_prob=0.5)
    with pytest.raises(ValueError, match='num_labels must be >= 1'):
        crf_label_map(image, labels, 0)
