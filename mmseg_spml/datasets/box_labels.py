# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Bounding boxes: the ``boxes.json`` file and the label maps made from it.

A box is ``(class id, x1, y1, x2, y2)`` in 0-based *inclusive* pixel
coordinates (x is the column, y the row), as VOC's XML (made 0-based) and
as ``boxes.json`` stores it: ``{image stem: [[cls, x1, y1, x2, y2], ...]}``,
written by ``tools/dataset_converters/voc_boxes.py`` and
``tools/make_weak_labels.py --type boxes``. Box classes are foreground
(``1 .. num_classes - 1``): a background box is not a box.

A box list can be turned into several label maps, all uint8 (H, W) in the
encoding of :mod:`mmseg_spml.label_encoding`; every one of them is
background (0) outside all boxes:

* :func:`box_map`: :data:`UNLABELLED` inside every box (the converters'
  format; SPML's box input);
* :func:`filled_box_labels`: each box filled with its class, smaller boxes
  on top (the plain "filled rectangles" baseline);
* :func:`box_prior_labels`: the class only in a core around the box's
  centre, the rest of the box unlabelled (a CAM-free box prior).

:func:`box_class_mask` says which classes a pixel may take under the box
constraint (for pseudo-label refinement). Everything here is pure numpy.
"""

import json
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmseg_spml.label_encoding import MAX_CLASSES, UNLABELLED

Box = Tuple[int, int, int, int, int]  # (class id, x1, y1, x2, y2), inclusive

#: Values a box map (:func:`box_map`) may hold: background outside the
#: boxes, unlabelled inside, void.
BOX_MAP_VALUES = (0, UNLABELLED, 255)

#: Core shapes of :func:`box_prior_labels`.
BOX_CORES = ('ellipse', 'box')

#: Fraction of a box's area that :func:`box_prior_labels` labels with the
#: box's class by default. Simple Does It (Khoreva et al., CVPR 2017,
#: section 3.1, "Box^i") labels the inner 20% of each Pascal VOC box as the
#: object and ignores the rest of the box; the same area fraction is used
#: for both core shapes.
SDI_CORE_AREA = 0.2

#: Image-level label modes of box annotations (see
#: :func:`box_labels_map`).
BOX_LABEL_MODES = ('unlabelled', 'filled', 'prior')

_BOXES_FILE_WRITERS = (
    'tools/dataset_converters/voc_boxes.py or tools/make_weak_labels.py '
    '--type boxes'
)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def check_box(box, num_classes: Optional[int] = None, where: str = 'box'):
    """Validate one box and return it as a tuple of 5 Python ints.

    Args:
        box: ``[cls, x1, y1, x2, y2]`` (any sequence of 5 integers).
        num_classes (int, optional): Class ids must be below this (and
            below 254 in any case). Default: None.
        where (str): Names the box in the messages, e.g.
            ``'boxes.json: image 2007_000032, box 1'``. Default: 'box'.

    Returns:
        tuple: ``(cls, x1, y1, x2, y2)``.

    Raises:
        ValueError: If the box is not 5 integers, its class is background
            or out of range, or its corners are negative or swapped.
    """
    if (
        not isinstance(box, (list, tuple, np.ndarray))
        or len(box) != 5
        or not all(_is_int(v) for v in box)
    ):
        raise ValueError(
            f'{where}: expected [cls, x1, y1, x2, y2] (5 integers), '
            f'got {box!r}'
        )
    cls, x1, y1, x2, y2 = (int(v) for v in box)
    limit = min(num_classes, MAX_CLASSES) if num_classes else MAX_CLASSES
    if not 1 <= cls < limit:
        raise ValueError(
            f'{where}: class {cls} of {list(box)} must be a foreground class '
            f'id in 1..{limit - 1} (background boxes are not boxes)'
        )
    if min(x1, y1) < 0:
        raise ValueError(
            f'{where}: {list(box)} has a negative coordinate; boxes are '
            '0-based pixel coordinates'
        )
    if x1 > x2 or y1 > y2:
        raise ValueError(
            f'{where}: {list(box)} needs x1 <= x2 and y1 <= y2 (inclusive '
            'corners)'
        )
    return cls, x1, y1, x2, y2


def check_boxes_in_image(
    boxes: Sequence[Box], shape: Tuple[int, int], where: str = 'boxes'
) -> None:
    """Raise ValueError if a box leaves an image of ``shape`` (H, W).

    Args:
        boxes (Sequence[Box]): Valid boxes (see :func:`check_box`).
        shape (tuple[int, int]): ``(H, W)`` of the image.
        where (str): Names the image in the message. Default: 'boxes'.
    """
    height, width = shape
    for i, (cls, x1, y1, x2, y2) in enumerate(boxes):
        if x2 >= width or y2 >= height or min(x1, y1) < 0:
            raise ValueError(
                f'{where}: box {i} {[cls, x1, y1, x2, y2]} leaves the image '
                f'of shape (H, W) = ({height}, {width}); expected '
                f'0 <= x1 <= x2 < {width} and 0 <= y1 <= y2 < {height}'
            )


def load_boxes_file(
    path: str, num_classes: Optional[int] = None
) -> Dict[str, List[Box]]:
    """Read and validate a ``boxes.json`` file.

    Args:
        path (str): The file: ``{image stem: [[cls, x1, y1, x2, y2], ...]}``
            with 0-based inclusive pixel coordinates.
        num_classes (int, optional): Box classes must be below this.
            Default: None (below 254).

    Returns:
        dict[str, list[Box]]: The boxes of every image, as tuples.

    Raises:
        FileNotFoundError: If ``path`` does not exist (the message says
            which tools write the file).
        ValueError: For malformed files, naming the file, the image and the
            entry.
    """
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError as e:
        raise FileNotFoundError(
            f'box file {path} does not exist; it is written by '
            f'{_BOXES_FILE_WRITERS}'
        ) from e
    except (OSError, ValueError) as e:
        raise ValueError(f'box file {path} is not valid JSON: {e}') from e
    if not isinstance(data, dict):
        raise ValueError(
            f'box file {path} must map image stems to box lists, got a '
            f'{type(data).__name__}'
        )
    out = {}
    for name, boxes in data.items():
        if not isinstance(boxes, list):
            raise ValueError(
                f'box file {path}: image {name} must have a list of boxes, '
                f'got {boxes!r}'
            )
        out[name] = [
            check_box(
                box, num_classes, f'box file {path}: image {name}, box {i}'
            )
            for i, box in enumerate(boxes)
        ]
    return out


def _checked(
    shape: Tuple[int, int], boxes: Sequence[Box], where: str = 'boxes'
) -> List[Box]:
    if len(shape) != 2:
        raise ValueError(f'shape must be (H, W), got {tuple(shape)}')
    boxes = [check_box(b, where=f'{where} {i}') for i, b in enumerate(boxes)]
    check_boxes_in_image(boxes, shape, where)
    return boxes


def _area(box: Box) -> int:
    return (box[3] - box[1] + 1) * (box[4] - box[2] + 1)


def box_map(shape: Tuple[int, int], boxes: Sequence[Box]) -> np.ndarray:
    """Background outside every box, :data:`UNLABELLED` inside.

    The format of the box converters; overlapping boxes are one region
    (the box list, ``boxes.json``, keeps them apart).

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        boxes (Sequence[Box]): ``(cls, x1, y1, x2, y2)``, inclusive.

    Returns:
        np.ndarray: uint8 (H, W).
    """
    boxes = _checked(shape, boxes)
    label = np.zeros(shape, np.uint8)
    for _, x1, y1, x2, y2 in boxes:
        label[y1 : y2 + 1, x1 : x2 + 1] = UNLABELLED
    return label


def filled_box_labels(
    shape: Tuple[int, int], boxes: Sequence[Box]
) -> np.ndarray:
    """Each box filled with its class; background outside every box.

    Where boxes overlap the smaller box (fewer pixels) is painted on top,
    so a small object in front of a large one stays visible; boxes of equal
    area are painted in list order (the later one on top).

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        boxes (Sequence[Box]): ``(cls, x1, y1, x2, y2)``, inclusive.

    Returns:
        np.ndarray: uint8 (H, W): 0 and box classes.
    """
    boxes = _checked(shape, boxes)
    label = np.zeros(shape, np.uint8)
    order = sorted(range(len(boxes)), key=lambda i: -_area(boxes[i]))
    for i in order:
        cls, x1, y1, x2, y2 = boxes[i]
        label[y1 : y2 + 1, x1 : x2 + 1] = cls
    return label


def default_core_ratio(core: str) -> float:
    """Core ratio whose core covers :data:`SDI_CORE_AREA` of the box.

    A box shrunk by r about its centre covers ``r ** 2`` of the box, the
    inscribed ellipse scaled by r covers ``pi / 4 * r ** 2``; so the ratio
    is ``sqrt(0.2) = 0.447`` for ``'box'`` and ``sqrt(0.8 / pi) = 0.505``
    for ``'ellipse'``.

    Args:
        core (str): One of :data:`BOX_CORES`.

    Returns:
        float: The ratio.
    """
    if core == 'box':
        return math.sqrt(SDI_CORE_AREA)
    if core == 'ellipse':
        return math.sqrt(SDI_CORE_AREA * 4 / math.pi)
    raise ValueError(f'core must be one of {BOX_CORES}, got {core!r}')


def _check_core(core: str, core_ratio: Optional[float]) -> float:
    """Validate a core shape and ratio; return the ratio (None: default)."""
    if core not in BOX_CORES:
        raise ValueError(f'core must be one of {BOX_CORES}, got {core!r}')
    if core_ratio is None:
        return default_core_ratio(core)
    if not 0 < core_ratio <= 1:
        raise ValueError(f'core_ratio must be in (0, 1], got {core_ratio}')
    return float(core_ratio)


def box_core_mask(
    shape: Tuple[int, int],
    box: Box,
    core: str = 'ellipse',
    core_ratio: Optional[float] = None,
) -> np.ndarray:
    """The core of one box as a boolean (H, W) mask.

    With the box's centre ``(cx, cy) = ((x1 + x2) / 2, (y1 + y2) / 2)`` and
    half extents ``a = core_ratio * (x2 - x1 + 1) / 2``,
    ``b = core_ratio * (y2 - y1 + 1) / 2`` (the box covers its pixels
    whole), a pixel ``(x, y)`` is in the core if its centre is on or
    inside the scaled shape: ``|x - cx| <= a and |y - cy| <= b`` for
    ``'box'``, ``((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1`` for
    ``'ellipse'``. The pixel(s) at the box's centre (1, 2 or 4 of them)
    always belong to the core, so no box loses its label.

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        box (Box): ``(cls, x1, y1, x2, y2)``, inside the image.
        core (str): ``'ellipse'`` or ``'box'``. Default: 'ellipse'.
        core_ratio (float, optional): Scale of the core, in (0, 1]; None
            takes :func:`default_core_ratio`. Default: None.

    Returns:
        np.ndarray: bool (H, W), True only inside the box.
    """
    core_ratio = _check_core(core, core_ratio)
    _, x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    a = core_ratio * (x2 - x1 + 1) / 2
    b = core_ratio * (y2 - y1 + 1) / 2
    ys = np.arange(y1, y2 + 1)[:, None] - cy
    xs = np.arange(x1, x2 + 1)[None, :] - cx
    if core == 'box':
        inside = (np.abs(xs) <= a) & (np.abs(ys) <= b)
    else:
        inside = (xs / a) ** 2 + (ys / b) ** 2 <= 1
    inside |= (np.abs(xs) <= 0.5) & (np.abs(ys) <= 0.5)
    mask = np.zeros(shape, bool)
    mask[y1 : y2 + 1, x1 : x2 + 1] = inside
    return mask


def box_prior_labels(
    shape: Tuple[int, int],
    boxes: Sequence[Box],
    core: str = 'ellipse',
    core_ratio: Optional[float] = None,
) -> np.ndarray:
    """A CAM-free box prior: the box's class in its core, unknown around.

    Each box labels its core (see :func:`box_core_mask`) with its class;
    the rest of every box is :data:`UNLABELLED`, everything outside all
    boxes is background. Overlaps:

    * a pixel in the cores of boxes of two or more classes is
      :data:`UNLABELLED` (the boxes disagree);
    * a core pixel of class c that lies inside a box of another class d,
      but outside d's core, keeps c (d's box border is the least sure part
      of d);
    * cores of boxes of the same class simply merge.

    The default core covers 20% of the box area (:data:`SDI_CORE_AREA`,
    Simple Does It's "Box^i" on Pascal VOC, which found that the inner 20%
    of a VOC box is reliably the object); the ellipse is the default shape
    because objects rarely fill a box's corners, so at the same area an
    ellipse labels fewer background pixels than a shrunk box.

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        boxes (Sequence[Box]): ``(cls, x1, y1, x2, y2)``, inclusive.
        core (str): ``'ellipse'`` (the ellipse inscribed in the box, scaled
            by ``core_ratio`` about its centre) or ``'box'`` (the box
            shrunk by ``core_ratio`` about its centre). Default: 'ellipse'.
        core_ratio (float, optional): Scale of the core, in (0, 1]; None
            takes :func:`default_core_ratio` (0.505 for an ellipse, 0.447
            for a box: 20% of the box area). Default: None.

    Returns:
        np.ndarray: uint8 (H, W): 0, box classes and :data:`UNLABELLED`.
    """
    core_ratio = _check_core(core, core_ratio)
    boxes = _checked(shape, boxes)
    label = box_map(shape, boxes)
    core_class = np.zeros(shape, np.int64)  # 0: no core yet
    conflict = np.zeros(shape, bool)
    for box in boxes:
        mask = box_core_mask(shape, box, core, core_ratio)
        conflict |= mask & (core_class != 0) & (core_class != box[0])
        core_class[mask] = box[0]
    label[core_class != 0] = core_class[core_class != 0]
    label[conflict] = UNLABELLED
    return label


def box_labels_map(
    shape: Tuple[int, int],
    boxes: Sequence[Box],
    mode: str = 'unlabelled',
    core: str = 'ellipse',
    core_ratio: Optional[float] = None,
) -> np.ndarray:
    """The label map of a box annotation in one of :data:`BOX_LABEL_MODES`.

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        boxes (Sequence[Box]): ``(cls, x1, y1, x2, y2)``, inclusive.
        mode (str): ``'unlabelled'`` (:func:`box_map`), ``'filled'``
            (:func:`filled_box_labels`) or ``'prior'``
            (:func:`box_prior_labels`). Default: 'unlabelled'.
        core (str): Core shape of ``'prior'``. Default: 'ellipse'.
        core_ratio (float, optional): Core ratio of ``'prior'``.
            Default: None.

    Returns:
        np.ndarray: uint8 (H, W).
    """
    if mode == 'unlabelled':
        return box_map(shape, boxes)
    if mode == 'filled':
        return filled_box_labels(shape, boxes)
    if mode == 'prior':
        return box_prior_labels(shape, boxes, core, core_ratio)
    raise ValueError(
        f'box label mode must be one of {BOX_LABEL_MODES}, got {mode!r}'
    )


def box_class_mask(
    shape: Tuple[int, int], boxes: Sequence[Box], num_classes: int
) -> np.ndarray:
    """Which classes each pixel may take under the box constraint.

    Background is allowed everywhere; class c only inside c's boxes
    (inside a box of class c, background stays allowed: boxes are not
    tight masks).

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        boxes (Sequence[Box]): ``(cls, x1, y1, x2, y2)``, inclusive, with
            ``cls < num_classes``.
        num_classes (int): C, including background.

    Returns:
        np.ndarray: bool (C, H, W).
    """
    if not 1 <= num_classes <= MAX_CLASSES:
        raise ValueError(
            f'num_classes must be in 1..{MAX_CLASSES}, got {num_classes}'
        )
    boxes = [
        check_box(b, num_classes, where=f'box {i}')
        for i, b in enumerate(boxes)
    ]
    mask = np.zeros((num_classes, *shape), bool)
    boxes = _checked(shape, boxes)
    mask[0] = True
    for cls, x1, y1, x2, y2 in boxes:
        mask[cls, y1 : y2 + 1, x1 : x2 + 1] = True
    return mask


def box_tags(shape: Tuple[int, int], boxes: Sequence[Box]) -> List[int]:
    """Image tags a box annotation implies: the box classes, plus
    background (0) if any pixel is outside every box.

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        boxes (Sequence[Box]): ``(cls, x1, y1, x2, y2)``, inclusive.

    Returns:
        list[int]: Sorted class ids.
    """
    tags = {b[0] for b in boxes}
    if (box_map(shape, boxes) == 0).any():
        tags.add(0)
    return sorted(tags)


def check_box_map(
    label: np.ndarray,
    boxes: Sequence[Box],
    shape: Tuple[int, int],
    where: str,
) -> None:
    """Raise ValueError unless ``label`` is the box map of ``boxes``.

    A box map (:func:`box_map`, the converters' format) holds only 0
    (outside every box), :data:`UNLABELLED` (inside) and 255 (void); it
    must have ``shape`` and agree with the box list: no background inside
    a box, no unlabelled pixel outside all boxes.

    Args:
        label (np.ndarray): The map read from a file, (H, W).
        boxes (Sequence[Box]): The image's boxes (from ``boxes.json``).
        shape (tuple[int, int]): The expected ``(H, W)``.
        where (str): The file, for the messages.
    """
    if label.ndim != 2 or tuple(label.shape) != tuple(shape):
        raise ValueError(
            f'box map {where} has shape {tuple(label.shape)}, expected '
            f'(H, W) = {tuple(shape)}'
        )
    values = set(np.unique(label).tolist())
    bad = sorted(values - set(BOX_MAP_VALUES))
    if bad:
        raise ValueError(
            f'box map {where} has values {bad}; expected only 0 (outside '
            f'the boxes), {UNLABELLED} (inside) and 255 (void), the maps '
            f'of {_BOXES_FILE_WRITERS} with --box-labels unlabelled'
        )
    expected = box_map(shape, boxes)
    known = label != 255
    if np.any(known & (label != expected)):
        ys, xs = np.nonzero(known & (label != expected))
        raise ValueError(
            f'box map {where} disagrees with boxes.json at {len(ys)} '
            f'pixel(s), first (y, x) = ({ys[0]}, {xs[0]}): value '
            f'{label[ys[0], xs[0]]}, expected {expected[ys[0], xs[0]]} '
            f'({UNLABELLED} inside the boxes, 0 outside)'
        )
