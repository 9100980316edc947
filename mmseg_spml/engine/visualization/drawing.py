# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pure drawing functions of SPML's visual diagnostics.

Everything here takes arrays (or tensors) and returns RGB ``uint8`` images
(H, W, 3): embeddings become colours through a 3-component PCA, label and
region maps become colours or boundaries, and :func:`diagnostic_panel`
tiles them into one horizontal strip. Nothing here touches a model.
"""

from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from torch import Tensor

from mmseg_spml.label_encoding import IGNORE_INDEX
from mmseg_spml.utils.io import IGNORE_COLOUR, UNLABELLED_COLOUR

ArrayLike = Union[np.ndarray, Tensor]

#: Colour of region boundaries.
BOUNDARY_COLOUR = (255, 255, 0)
#: Colour of a panel with nothing to show.
BLANK_COLOUR = (64, 64, 64)


def _numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _label_map(labels: ArrayLike, name: str) -> np.ndarray:
    """An int64 (H, W) map from (H, W) or (1, H, W) input."""
    arr = _numpy(labels)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(
            f'{name} must be an (H, W) map, got shape {tuple(arr.shape)}'
        )
    return arr.astype(np.int64)


def embedding_to_rgb(embedding: ArrayLike) -> np.ndarray:
    """Colour every pixel by the first three principal components of the
    image's embeddings.

    PCA runs on the centred (H * W, C) features (eigenvectors of their
    covariance, in float64). The sign of every component is fixed so that
    its largest-magnitude loading is positive, so the colours do not flip
    between calls. Each component is min-max scaled to [0, 255]
    separately: red is the first component, green the second, blue the
    third. Components that do not exist (C < 3 or fewer pixels) and
    constant components are 0; non-finite values count as 0.

    Args:
        embedding (np.ndarray | Tensor): (C, H, W) pixel embeddings.

    Returns:
        np.ndarray: uint8 (H, W, 3) RGB image.
    """
    if isinstance(embedding, Tensor):  # any dtype, bfloat16 included
        emb = embedding.detach().cpu()
    else:
        emb = torch.as_tensor(np.asarray(embedding))
    if emb.ndim != 3:
        raise ValueError(
            f'embedding must be (C, H, W), got shape {tuple(emb.shape)}'
        )
    c, h, w = emb.shape
    feats = torch.nan_to_num(emb.double(), nan=0.0, posinf=0.0, neginf=0.0)
    feats = feats.reshape(c, h * w).T  # (HW, C)
    feats = feats - feats.mean(0, keepdim=True)
    proj = feats.new_zeros(h * w, 3)
    if c > 0 and h * w > 1:
        cov = feats.T @ feats / (h * w - 1)
        _, vecs = torch.linalg.eigh(cov)  # ascending eigenvalues
        comps = vecs.flip(1)[:, :3]  # (C, k), k = min(C, 3)
        rows = comps.abs().argmax(0)
        signs = torch.sign(comps[rows, torch.arange(comps.shape[1])])
        comps = comps * torch.where(signs == 0, 1.0, signs)
        proj[:, : comps.shape[1]] = feats @ comps
    low = proj.amin(0, keepdim=True)
    span = proj.amax(0, keepdim=True) - low
    scale = torch.where(span > 1e-12, span, torch.ones_like(span))
    scaled = torch.where(span > 1e-12, (proj - low) / scale, 0.0)
    rgb = (scaled * 255).round().clamp(0, 255).to(torch.uint8)
    return rgb.reshape(h, w, 3).numpy()


def default_palette(num_classes: int, seed: int = 0) -> list:
    """Distinct-looking deterministic colours for datasets without one.

    Returns:
        list[list[int]]: ``num_classes`` RGB triples.
    """
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (max(num_classes, 0), 3)).tolist()


def colorize_labels(
    labels: ArrayLike,
    palette: Sequence[Sequence[int]],
    ignore_index: int = IGNORE_INDEX,
    ignore_colour: Tuple[int, int, int] = IGNORE_COLOUR,
    unknown_colour: Tuple[int, int, int] = UNLABELLED_COLOUR,
) -> np.ndarray:
    """Class colours of a label map.

    Args:
        labels (np.ndarray | Tensor): (H, W) or (1, H, W) class ids.
        palette (Sequence): One RGB triple per class id.
        ignore_index (int): Void label, drawn in ``ignore_colour``.
            Default: 255.
        ignore_colour (tuple[int]): Default: VOC's void cream.
        unknown_colour (tuple[int]): Colour of other labels outside the
            palette (negative, or >= ``len(palette)``, e.g. 254 =
            unlabelled). Default: white.

    Returns:
        np.ndarray: uint8 (H, W, 3) RGB image.
    """
    lab = _label_map(labels, 'labels')
    table = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    out = np.empty(lab.shape + (3,), np.uint8)
    out[:] = unknown_colour
    known = (lab >= 0) & (lab < len(table))
    out[known] = table[lab[known]]
    out[lab == ignore_index] = ignore_colour
    return out


def colorize_regions(regions: ArrayLike, seed: int = 0) -> np.ndarray:
    """Random (but deterministic) colours for region ids (segments,
    superpixels): equal ids share a colour, negative ids are black.

    Args:
        regions (np.ndarray | Tensor): (H, W) or (1, H, W) integer ids.
        seed (int): Seed of the colour table. Default: 0.

    Returns:
        np.ndarray: uint8 (H, W, 3) RGB image.
    """
    ids = _label_map(regions, 'regions')
    uniq, inverse = np.unique(ids, return_inverse=True)
    table = np.random.default_rng(seed).integers(
        32, 256, (len(uniq), 3), dtype=np.int64
    )
    table[uniq < 0] = 0
    return table.astype(np.uint8)[inverse.reshape(ids.shape)]


def segment_boundaries(regions: ArrayLike) -> np.ndarray:
    """Pixels whose 4-neighbourhood holds another region id.

    Args:
        regions (np.ndarray | Tensor): (H, W) or (1, H, W) integer ids.

    Returns:
        np.ndarray: bool (H, W); both sides of every boundary are marked.
    """
    ids = _label_map(regions, 'regions')
    edge = np.zeros(ids.shape, bool)
    vertical = ids[1:] != ids[:-1]
    horizontal = ids[:, 1:] != ids[:, :-1]
    edge[1:] |= vertical
    edge[:-1] |= vertical
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    return edge


def overlay(
    image: np.ndarray,
    mask_rgb: np.ndarray,
    alpha: float = 0.5,
    where: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Blend a colour map over an image.

    Args:
        image (np.ndarray): uint8 (H, W, 3) image.
        mask_rgb (np.ndarray): uint8 (H, W, 3) colours.
        alpha (float): Weight of the colours, in [0, 1]. Default: 0.5.
        where (np.ndarray, optional): bool (H, W); pixels outside keep the
            image. Default: None (everywhere).

    Returns:
        np.ndarray: uint8 (H, W, 3) image.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    if image.shape != mask_rgb.shape or image.ndim != 3:
        raise ValueError(
            f'image {image.shape} and colours {mask_rgb.shape} must both '
            'be (H, W, 3)'
        )
    blend = (
        image.astype(np.float32) * (1 - alpha)
        + mask_rgb.astype(np.float32) * alpha
    )
    blend = np.clip(np.round(blend), 0, 255).astype(np.uint8)
    if where is None:
        return blend
    return np.where(where[..., None], blend, image)


def resize_to(
    array: np.ndarray, size: Tuple[int, int], nearest: bool
) -> np.ndarray:
    """Resize an (H, W) or (H, W, 3) array to ``size`` = (H', W'):
    nearest neighbour for labels, bilinear for pictures."""
    if array.shape[:2] == tuple(size):
        return array
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    dtype = array.dtype
    if dtype not in (np.uint8, np.float32):
        array = array.astype(np.float32 if not nearest else np.int32)
    out = cv2.resize(array, (size[1], size[0]), interpolation=interp)
    return out.astype(dtype)


def _regions_panel(
    image: np.ndarray, regions: ArrayLike, style: str, alpha: float
) -> np.ndarray:
    ids = resize_to(_label_map(regions, 'regions'), image.shape[:2], True)
    if style == 'colours':
        panel = overlay(image, colorize_regions(ids), alpha)
    elif style == 'boundaries':
        panel = image.copy()
    else:
        raise ValueError(
            f"region style must be 'colours' or 'boundaries', got {style!r}"
        )
    panel[segment_boundaries(ids)] = BOUNDARY_COLOUR
    return panel


def diagnostic_panel(
    image: np.ndarray,
    embedding: Optional[ArrayLike] = None,
    segments: Optional[ArrayLike] = None,
    superpixels: Optional[ArrayLike] = None,
    label: Optional[ArrayLike] = None,
    prediction: Optional[ArrayLike] = None,
    palette: Optional[Sequence[Sequence[int]]] = None,
    alpha: float = 0.5,
    segment_style: str = 'colours',
    superpixel_style: str = 'boundaries',
    ignore_index: int = IGNORE_INDEX,
) -> np.ndarray:
    """One image's diagnostics as a horizontal strip, without titles.

    Panels, left to right: the image | embedding PCA colours | k-means
    segments | superpixels | weak or pseudo label | prediction. Every
    panel is resized to the image's size (nearest neighbour for ids and
    labels, bilinear for the PCA colours); a panel without data is a flat
    dark grey, so the layout is always the same. Labels are drawn over
    the image in the palette's colours (void in cream, labels outside the
    palette, such as 254 = unlabelled, not drawn); the prediction covers
    the whole image.

    Args:
        image (np.ndarray): uint8 (H, W, 3) RGB image.
        embedding (np.ndarray | Tensor, optional): (C, h, w) embeddings.
        segments (np.ndarray | Tensor, optional): (h, w) segment ids
            (negative: no segment).
        superpixels (np.ndarray | Tensor, optional): (h, w) region ids.
        label (np.ndarray | Tensor, optional): (h, w) weak/pseudo labels.
        prediction (np.ndarray | Tensor, optional): (h, w) class ids.
        palette (Sequence, optional): RGB triple per class; needed for
            ``label`` or ``prediction``. Default: :func:`default_palette`
            of as many classes as the largest class id seen.
        alpha (float): Weight of drawn colours over the image.
            Default: 0.5.
        segment_style (str): ``'colours'`` (random colour per segment,
            plus boundaries) or ``'boundaries'``. Default: 'colours'.
        superpixel_style (str): The same for superpixels.
            Default: 'boundaries'.
        ignore_index (int): Void label. Default: 255.

    Returns:
        np.ndarray: uint8 (H, 6 * W, 3) RGB image.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            'image must be a uint8 (H, W, 3) RGB array, got '
            f'{image.dtype} {image.shape}'
        )
    size = image.shape[:2]
    blank = np.empty_like(image)
    blank[:] = BLANK_COLOUR
    labels = {}
    for name, value in (('label', label), ('prediction', prediction)):
        if value is not None:
            labels[name] = resize_to(_label_map(value, name), size, True)
    if palette is None:
        seen = [
            int(v[(v >= 0) & (v < 254)].max(initial=-1))
            for v in labels.values()
        ]
        palette = default_palette(max(seen, default=-1) + 1)
    num_classes = len(palette)

    panels = [image]
    if embedding is None:
        panels.append(blank)
    else:
        panels.append(resize_to(embedding_to_rgb(embedding), size, False))
    for regions, style in (
        (segments, segment_style),
        (superpixels, superpixel_style),
    ):
        panels.append(
            blank
            if regions is None
            else _regions_panel(image, regions, style, alpha)
        )
    if 'label' in labels:
        lab = labels['label']
        colours = colorize_labels(lab, palette, ignore_index)
        drawn = ((lab >= 0) & (lab < num_classes)) | (lab == ignore_index)
        panels.append(overlay(image, colours, alpha, drawn))
    else:
        panels.append(blank)
    if 'prediction' in labels:
        colours = colorize_labels(labels['prediction'], palette, ignore_index)
        panels.append(overlay(image, colours, alpha))
    else:
        panels.append(blank)
    return np.concatenate(panels, axis=1)
