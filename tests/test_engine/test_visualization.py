# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The pure drawing functions of mmseg_spml.engine.visualization."""

import numpy as np
import pytest
import torch

from mmseg_spml.engine.visualization import (
    colorize_labels,
    colorize_regions,
    diagnostic_panel,
    embedding_to_rgb,
    overlay,
    resolve_palette,
    segment_boundaries,
)
from mmseg_spml.utils.io import IGNORE_COLOUR, UNLABELLED_COLOUR

H, W = 6, 8
PALETTE = [[10, 20, 30], [200, 0, 0], [0, 200, 0]]


def _known_axes(sign: float = 1.0) -> torch.Tensor:
    """(4, H, W) embedding with exactly uncorrelated channels: channel 2
    varies most (columns), then channel 0 (rows), then channel 3 (a
    checkerboard); channel 1 is constant."""
    ys, xs = torch.meshgrid(
        torch.arange(H, dtype=torch.float64) - (H - 1) / 2,
        torch.arange(W, dtype=torch.float64) - (W - 1) / 2,
        indexing='ij',
    )
    checker = 1.0 - 2.0 * ((ys + xs + 7) % 2)  # +-1, mean 0
    emb = torch.zeros(4, H, W, dtype=torch.float64)
    emb[2] = sign * 10 * xs
    emb[0] = 3 * ys
    emb[3] = 0.5 * checker
    emb[1] = 7.0
    return emb.float()


def test_embedding_pca_channels_follow_the_principal_axes():
    rgb = embedding_to_rgb(_known_axes())
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8
    red, green, blue = (rgb[..., i].astype(int) for i in range(3))
    # Red: the first axis (columns), min-max scaled, constant down a column.
    assert (red[:, 0] == 0).all() and (red[:, -1] == 255).all()
    assert (np.diff(red, axis=1) > 0).all() and (
        np.diff(red, axis=0) == 0
    ).all()
    # Green: the second axis (rows).
    assert (green[0] == 0).all() and (green[-1] == 255).all()
    assert (np.diff(green, axis=0) > 0).all()
    # Blue: the checkerboard, two values.
    assert set(np.unique(blue)) == {0, 255}
    # Same colours again, from a tensor or an array, at any scale.
    assert (embedding_to_rgb(_known_axes().numpy() * 4) == rgb).all()
    assert embedding_to_rgb(_known_axes().bfloat16()).shape == (H, W, 3)


def test_embedding_pca_sign_follows_the_dominant_channel():
    # The first component's largest loading is made positive: red grows
    # with the dominant channel's value, whatever its orientation.
    rgb = embedding_to_rgb(_known_axes(sign=-1.0))
    assert (rgb[:, 0, 0] == 255).all() and (rgb[:, -1, 0] == 0).all()


@pytest.mark.parametrize('channels', [1, 2])
def test_embedding_pca_with_fewer_than_three_channels(channels):
    emb = _known_axes()[[2, 0][:channels]]
    rgb = embedding_to_rgb(emb)
    assert rgb.shape == (H, W, 3)
    assert (rgb[..., channels:] == 0).all()
    assert rgb[..., 0].max() == 255


def test_embedding_pca_constant_and_non_finite_input():
    with np.errstate(all='raise'):
        assert (embedding_to_rgb(torch.ones(5, H, W)) == 0).all()
        assert (embedding_to_rgb(torch.zeros(5, 1, 1)) == 0).all()
    emb = _known_axes()
    emb[:, 0, 0] = float('nan')
    emb[:, 1, 1] = float('inf')
    assert embedding_to_rgb(emb).shape == (H, W, 3)
    with pytest.raises(ValueError, match=r'\(C, H, W\)'):
        embedding_to_rgb(torch.zeros(H, W))


def test_colorize_labels_uses_palette_ignore_and_unknown_colours():
    labels = torch.tensor([[0, 1, 2], [254, 255, 2]])
    rgb = colorize_labels(labels, PALETTE)
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8
    assert rgb[0].tolist() == PALETTE
    assert tuple(rgb[1, 0]) == UNLABELLED_COLOUR
    assert tuple(rgb[1, 1]) == IGNORE_COLOUR
    rgb = colorize_labels(labels[None], PALETTE, ignore_colour=(1, 2, 3))
    assert tuple(rgb[1, 1]) == (1, 2, 3)


def test_regions_boundaries_and_colours():
    ids = np.zeros((4, 5), int)
    ids[:, 3:] = 7
    ids[0, 0] = -1
    edge = segment_boundaries(ids)
    assert edge[:, 2:4].all() and not edge[2:, :2].any()
    assert edge[0, 0] and edge[1, 0] and edge[0, 1]  # around the -1
    assert not edge[:, 4].any()
    rgb = colorize_regions(ids)
    assert (rgb == colorize_regions(torch.from_numpy(ids))).all()
    assert (rgb[0, 0] == 0).all()  # negative: black
    assert (rgb[1, 0] == rgb[3, 2]).all() and (rgb[1, 0] != rgb[0, 4]).any()


def test_overlay():
    image = np.full((2, 2, 3), 100, np.uint8)
    colours = np.full((2, 2, 3), 200, np.uint8)
    assert (overlay(image, colours, 0.0) == 100).all()
    assert (overlay(image, colours, 1.0) == 200).all()
    where = np.array([[True, False], [False, False]])
    out = overlay(image, colours, 0.5, where)
    assert out[0, 0, 0] == 150 and (out.reshape(-1, 3)[1:] == 100).all()
    with pytest.raises(ValueError, match='alpha'):
        overlay(image, colours, 2.0)


def test_diagnostic_panel_layout_and_label_drawing():
    image = np.full((H, W, 3), 90, np.uint8)
    label = np.full((H // 2, W // 2), 254)  # half size: nearest upsampling
    label[0, 0] = 1
    label[-1, -1] = 255
    pred = torch.full((H, W), 2)
    strip = diagnostic_panel(
        image,
        embedding=_known_axes()[:, ::2, ::2],
        segments=torch.zeros(H // 2, W // 2, dtype=torch.long),
        label=label,
        prediction=pred,
        palette=PALETTE,
        alpha=1.0,
    )
    assert strip.shape == (H, 6 * W, 3) and strip.dtype == np.uint8
    panels = np.split(strip, 6, axis=1)
    assert (panels[0] == image).all()
    assert (panels[3] == 64).all()  # no superpixels: a blank panel
    lab = panels[4]
    assert (lab[:2, :2] == PALETTE[1]).all()
    assert (lab[-2:, -2:] == IGNORE_COLOUR).all()
    assert (lab[2:4, 2:4] == 90).all()  # unlabelled: the image shows
    assert (panels[5] == PALETTE[2]).all()


def test_diagnostic_panel_without_palette_and_errors():
    image = np.zeros((H, W, 3), np.uint8)
    strip = diagnostic_panel(image, prediction=np.full((H, W), 3))
    assert strip.shape == (H, 6 * W, 3)
    with pytest.raises(ValueError, match='uint8'):
        diagnostic_panel(image.astype(float))
    with pytest.raises(ValueError, match='region style'):
        diagnostic_panel(image, segments=np.zeros((H, W)), segment_style='x')


def test_resolve_palette_takes_the_first_available():
    assert resolve_palette(3, None, {}, dict(palette=PALETTE)) == PALETTE
    fallback = resolve_palette(4, dict(palette=[]))
    assert len(fallback) == 4
    assert fallback == resolve_palette(4)  # deterministic
