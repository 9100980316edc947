# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Synthesise weak annotations (points, scribbles, boxes, tags) from masks.

Lets any fully labelled segmentation data set be used for weak-supervision
studies. Every function is pure numpy, deterministic given its ``rng``, and
returns label maps in the project's encoding
(:mod:`mmseg_spml.label_encoding`): class ids where the weak annotation
labels a pixel, :data:`UNLABELLED` elsewhere. Void pixels (255) of the full
mask are never labelled: a real annotator does not know about them either.

A *region* is one instance when an instance map is given, otherwise one
8-connected component of a class.
"""

import math
import zlib
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Tuple

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from skimage.morphology import disk, skeletonize

from mmseg_spml.label_encoding import IGNORE_INDEX, MAX_CLASSES, UNLABELLED

from .box_labels import (
    BOX_LABEL_MODES,
    Box,
    box_labels_map,
    box_map,
    box_tags,
)

Region = Tuple[int, np.ndarray]  # (class id, boolean mask (H, W))

_EIGHT = np.ones((3, 3), dtype=bool)


def _check_maps(semantic: np.ndarray, instance: Optional[np.ndarray]) -> None:
    if semantic.ndim != 2:
        raise ValueError(
            f'semantic map must be 2-D (H, W), got shape {semantic.shape}'
        )
    if instance is not None and instance.shape != semantic.shape:
        raise ValueError(
            f'instance map has shape {instance.shape} but the '
            f'semantic map has {semantic.shape}'
        )


def iter_regions(
    semantic: np.ndarray,
    instance: Optional[np.ndarray] = None,
    ignore_background: bool = False,
    min_area: int = 1,
) -> Iterator[Region]:
    """Yield the labelled regions of a full mask in a fixed order.

    Args:
        semantic (np.ndarray): Class map (H, W); 255 is void.
        instance (np.ndarray, optional): Instance map (H, W) (0 and 255:
            no instance). Regions are (class, instance) pairs; pixels of a
            class outside every instance (e.g. VOC background) are split
            into connected components. Default: None.
        ignore_background (bool): Skip class 0. Default: False.
        min_area (int): Skip regions with fewer pixels. Default: 1.

    Yields:
        tuple: ``(class_id, mask)`` with ``mask`` a boolean (H, W) array.
    """
    _check_maps(semantic, instance)
    for cls in np.unique(semantic):
        cls = int(cls)
        if cls in (IGNORE_INDEX, UNLABELLED) or (
            ignore_background and cls == 0
        ):
            continue
        cls_mask = semantic == cls
        rest = cls_mask
        if instance is not None:
            ids = np.unique(instance[cls_mask])
            for inst in ids[(ids != 0) & (ids != IGNORE_INDEX)]:
                mask = cls_mask & (instance == inst)
                if mask.sum() >= min_area:
                    yield cls, mask
            rest = cls_mask & ((instance == 0) | (instance == IGNORE_INDEX))
        components, num = ndimage.label(rest, structure=_EIGHT)
        for comp in range(1, num + 1):
            mask = components == comp
            if mask.sum() >= min_area:
                yield cls, mask


def image_tags(label: np.ndarray, num_classes: int) -> List[int]:
    """Sorted class ids present in a (full or weak) label map.

    Args:
        label (np.ndarray): Label map (H, W).
        num_classes (int): Ids ``>= num_classes`` (unlabelled, void) are not
            tags.

    Returns:
        list[int]: The tags; empty for an image without labelled pixels.
    """
    present = np.unique(label)
    return [int(c) for c in present if c < num_classes]


def interior_point(
    mask: np.ndarray, rng: np.random.Generator, interior_ratio: float = 1.0
) -> Tuple[int, int]:
    """A point deep inside a region.

    Args:
        mask (np.ndarray): Boolean region mask (H, W), not empty.
        rng (np.random.Generator): Breaks ties and samples the point.
        interior_ratio (float): The point is drawn uniformly among pixels
            whose distance to the region's border is at least this fraction
            of the largest such distance; 1.0 gives the region's centre
            (the pixel farthest from the border). Default: 1.0.

    Returns:
        tuple[int, int]: ``(y, x)``.
    """
    if not 0 < interior_ratio <= 1:
        raise ValueError(
            f'interior_ratio must be in (0, 1], got {interior_ratio}'
        )
    # Pad so that the image border counts as region border.
    dist = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    ys, xs = np.nonzero(dist >= interior_ratio * dist.max())
    i = rng.integers(len(ys))
    return int(ys[i]), int(xs[i])


def _paint(
    weak: np.ndarray,
    seeds: np.ndarray,
    region: np.ndarray,
    cls: int,
    radius: int,
) -> None:
    """Dilate ``seeds`` by a disk of ``radius`` inside ``region``; paint."""
    if radius > 0:
        seeds = ndimage.binary_dilation(seeds, structure=disk(radius))
    weak[seeds & region] = cls


def synthesize_points(
    semantic: np.ndarray,
    instance: Optional[np.ndarray] = None,
    radius: int = 6,
    interior_ratio: float = 1.0,
    min_area: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """One point per region, at its interior centre, dilated.

    Args:
        semantic (np.ndarray): Full class map (H, W).
        instance (np.ndarray, optional): Instance map (H, W). Default: None.
        radius (int): Dilation radius; the paper uses 6 for points.
            Default: 6.
        interior_ratio (float): See :func:`interior_point`. Default: 1.0.
        min_area (int): Regions smaller than this get no point. Default: 1.
        seed (int): Random seed. Default: 0.

    Returns:
        np.ndarray: uint8 weak label map (H, W).
    """
    rng = np.random.default_rng(seed)
    weak = np.full(semantic.shape, UNLABELLED, np.uint8)
    for cls, mask in iter_regions(semantic, instance, min_area=min_area):
        seeds = np.zeros_like(mask)
        seeds[interior_point(mask, rng, interior_ratio)] = True
        _paint(weak, seeds, mask, cls, radius)
    return weak


def _skeleton_distances(
    skeleton: np.ndarray, start: Tuple[int, int]
) -> Tuple[np.ndarray, ...]:
    """Geodesic distances along an 8-connected skeleton from ``start``.

    Returns:
        tuple: ``(ys, xs, dist)`` of the skeleton pixels; ``dist`` is inf
        for pixels not connected to ``start``.
    """
    ys, xs = np.nonzero(skeleton)
    index = -np.ones(skeleton.shape, np.int64)
    index[ys, xs] = np.arange(len(ys))
    padded = np.pad(index, 1, constant_values=-1)
    rows, cols, weights = [], [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            nbr = padded[ys + 1 + dy, xs + 1 + dx]
            valid = nbr >= 0
            rows.append(np.nonzero(valid)[0])
            cols.append(nbr[valid])
            weights.append(np.full(valid.sum(), np.hypot(dy, dx)))
    n = len(ys)
    graph = coo_matrix(
        (
            np.concatenate(weights),
            (np.concatenate(rows), np.concatenate(cols)),
        ),
        shape=(n, n),
    ).tocsr()
    # Start from the skeleton pixel closest to the requested point.
    first = int(np.argmin((ys - start[0]) ** 2 + (xs - start[1]) ** 2))
    return ys, xs, dijkstra(graph, indices=first)


def synthesize_scribbles(
    semantic: np.ndarray,
    instance: Optional[np.ndarray] = None,
    radius: int = 3,
    length_ratio: float = 1.0,
    min_area: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """One skeleton scribble per region, dilated.

    The scribble is the region's morphological skeleton, grown from the
    region's interior centre: ``length_ratio`` keeps that fraction of the
    skeleton's pixels, those geodesically closest to the centre, so 1.0 is
    the whole skeleton and 0.0 a single point (the sparsity study of the
    paper's table 7).

    Args:
        semantic (np.ndarray): Full class map (H, W).
        instance (np.ndarray, optional): Instance map (H, W). Default: None.
        radius (int): Dilation radius; the paper uses 3 for scribbles.
            Default: 3.
        length_ratio (float): Fraction of the skeleton kept, in [0, 1].
            Default: 1.0.
        min_area (int): Regions smaller than this get no scribble.
            Default: 1.
        seed (int): Random seed. Default: 0.

    Returns:
        np.ndarray: uint8 weak label map (H, W).
    """
    if not 0 <= length_ratio <= 1:
        raise ValueError(f'length_ratio must be in [0, 1], got {length_ratio}')
    rng = np.random.default_rng(seed)
    weak = np.full(semantic.shape, UNLABELLED, np.uint8)
    for cls, mask in iter_regions(semantic, instance, min_area=min_area):
        centre = interior_point(mask, rng)
        seeds = np.zeros_like(mask)
        skeleton = skeletonize(mask)
        if skeleton.any():
            ys, xs, dist = _skeleton_distances(skeleton, centre)
            reachable = int(np.isfinite(dist).sum())
            count = max(1, int(round(length_ratio * reachable)))
            keep = np.argsort(dist, kind='stable')[:count]
            seeds[ys[keep], xs[keep]] = True
        else:
            seeds[centre] = True
        _paint(weak, seeds, mask, cls, radius)
    return weak


def synthesize_boxes(
    semantic: np.ndarray,
    instance: Optional[np.ndarray] = None,
    min_area: int = 1,
) -> Tuple[List[Box], np.ndarray]:
    """Bounding boxes of the foreground regions and the box label map.

    Background (class 0) gets no box: a background box is not a box.

    Args:
        semantic (np.ndarray): Full class map (H, W).
        instance (np.ndarray, optional): Instance map (H, W). Default: None.
        min_area (int): Regions smaller than this get no box. Default: 1.

    Returns:
        tuple: ``(boxes, weak)``: boxes as ``(class, x1, y1, x2, y2)`` with
        inclusive pixel coordinates, and a uint8 map (H, W) that is
        background (0) outside every box and :data:`UNLABELLED` inside
        (:func:`~mmseg_spml.datasets.box_labels.box_map`).
    """
    boxes: List[Box] = []
    for cls, mask in iter_regions(
        semantic, instance, ignore_background=True, min_area=min_area
    ):
        ys, xs = np.nonzero(mask)
        box = (cls, int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
        boxes.append(box)
    return boxes, box_map(semantic.shape, boxes)


#: Kinds of weak annotation :func:`synthesize_weak_labels` makes.
WEAK_TYPES = ('points', 'scribbles', 'boxes', 'tags')
#: Dilation radii of the paper (appendix A.2): 6 for points, 3 for
#: scribbles, in pixels of Pascal VOC images.
DEFAULT_RADIUS = dict(points=6, scribbles=3)
#: ``(H, W)`` of the images :data:`DEFAULT_RADIUS` was chosen for: Pascal
#: VOC's typical 500 x 375 (landscape) image.
VOC_REFERENCE_SHAPE = (375, 500)


def scaled_radius(kind: str, shape: Tuple[int, ...]) -> int:
    """The paper's dilation radius, scaled to an image of ``shape``.

    A click or a pen stroke covers a fixed fraction of the image, not a
    fixed number of pixels, so :data:`DEFAULT_RADIUS` is scaled by the
    image's linear size relative to :data:`VOC_REFERENCE_SHAPE`:
    ``round(DEFAULT_RADIUS[kind] * sqrt(H * W / (375 * 500)))`` (halves
    round up), at least 1. A 500 x 375 image keeps 6 (points) and 3
    (scribbles); a 128 x 128 image gets 2 and 1.

    Args:
        kind (str): ``'points'`` or ``'scribbles'``.
        shape (tuple[int, ...]): The image's ``(H, W)`` (further entries,
            e.g. channels, are ignored).

    Returns:
        int: The radius in pixels, >= 1.
    """
    if kind not in DEFAULT_RADIUS:
        raise ValueError(
            f'kind must be one of {tuple(DEFAULT_RADIUS)} to have a '
            f'dilation radius, got {kind!r}'
        )
    height, width = shape[:2]
    ref_h, ref_w = VOC_REFERENCE_SHAPE
    scale = math.sqrt(height * width / (ref_h * ref_w))
    return max(1, int(math.floor(DEFAULT_RADIUS[kind] * scale + 0.5)))


@dataclass
class WeakAnnotation:
    """The weak annotation of one image.

    Attributes:
        label (np.ndarray): uint8 weak label map (H, W).
        tags (list[int]): Image-level tags the annotation implies: the
            classes of its labelled pixels (points, scribbles), of its boxes
            plus background if any pixel is outside all boxes (boxes), or of
            the full mask (tags, whose map is all unlabelled).
        boxes (list[tuple]): ``(class, x1, y1, x2, y2)`` for boxes, else
            empty.
    """

    label: np.ndarray
    tags: List[int]
    boxes: List[Box] = field(default_factory=list)


def image_seed(seed: int, name: str) -> int:
    """Seed of one image: depends on the data set seed and the image name,
    not on the order in which images are processed."""
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % 2**32


def synthesize_weak_labels(
    kind: str,
    semantic: np.ndarray,
    instance: Optional[np.ndarray] = None,
    num_classes: int = MAX_CLASSES,
    radius: Optional[int] = None,
    length_ratio: float = 1.0,
    interior_ratio: float = 1.0,
    min_area: int = 1,
    seed: int = 0,
    box_labels: str = 'unlabelled',
    box_core: str = 'ellipse',
    box_core_ratio: Optional[float] = None,
) -> WeakAnnotation:
    """Make one kind of weak annotation from a full mask.

    Args:
        kind (str): One of :data:`WEAK_TYPES`.
        semantic (np.ndarray): Full class map (H, W).
        instance (np.ndarray, optional): Instance map (H, W). Default: None.
        num_classes (int): Ids from here on are not classes.
            Default: 254.
        radius (int, optional): Dilation radius of points and scribbles
            in pixels, used as is; None scales the paper's radii to the
            image (:func:`scaled_radius`: 6 and 3 on a 500 x 375 image).
            Default: None.
        length_ratio (float): Scribble length ratio. Default: 1.0.
        interior_ratio (float): Point placement, see
            :func:`interior_point`. Default: 1.0.
        min_area (int): Regions smaller than this are not annotated.
            Default: 1.
        seed (int): Random seed. Default: 0.
        box_labels (str): Label map of ``boxes``, one of
            :data:`~mmseg_spml.datasets.box_labels.BOX_LABEL_MODES`:
            ``'unlabelled'`` (254 inside the boxes), ``'filled'`` (each box
            filled with its class) or ``'prior'`` (the class in a core of
            each box, 254 around it); see
            :func:`~mmseg_spml.datasets.box_labels.box_labels_map`.
            Background outside the boxes in every mode.
            Default: 'unlabelled'.
        box_core (str): Core shape of ``box_labels='prior'``: 'ellipse' or
            'box'. Default: 'ellipse'.
        box_core_ratio (float, optional): Core scale of
            ``box_labels='prior'``; None covers 20% of the box area.
            Default: None.

    Returns:
        WeakAnnotation: The label map, tags and boxes.
    """
    if kind not in WEAK_TYPES:
        raise ValueError(f'kind must be one of {WEAK_TYPES}, got {kind!r}')
    if box_labels not in BOX_LABEL_MODES:
        raise ValueError(
            f'box_labels must be one of {BOX_LABEL_MODES}, got {box_labels!r}'
        )
    if kind != 'boxes' and (
        box_labels != 'unlabelled'
        or box_core != 'ellipse'
        or box_core_ratio is not None
    ):
        raise ValueError(
            f'box_labels, box_core and box_core_ratio apply to kind '
            f"'boxes' only, not {kind!r}"
        )
    if radius is None and kind in DEFAULT_RADIUS:
        radius = scaled_radius(kind, semantic.shape)
    if radius is not None and (
        not isinstance(radius, (int, np.integer)) or radius < 0
    ):
        raise ValueError(f'radius must be an integer >= 0, got {radius!r}')
    if kind == 'points':
        label = synthesize_points(
            semantic, instance, radius, interior_ratio, min_area, seed
        )
    elif kind == 'scribbles':
        label = synthesize_scribbles(
            semantic, instance, radius, length_ratio, min_area, seed
        )
    elif kind == 'boxes':
        boxes, _ = synthesize_boxes(semantic, instance, min_area=min_area)
        label = box_labels_map(
            semantic.shape, boxes, box_labels, box_core, box_core_ratio
        )
        tags = [t for t in box_tags(semantic.shape, boxes) if t < num_classes]
        return WeakAnnotation(label, tags, boxes)
    else:
        label = np.full(semantic.shape, UNLABELLED, np.uint8)
        return WeakAnnotation(label, image_tags(semantic, num_classes))
    return WeakAnnotation(label, image_tags(label, num_classes))
