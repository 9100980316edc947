# Copyright (c) mmseg-spml contributors. All rights reserved.
"""ScribbleSup (Lin et al., CVPR 2016) XML scribbles to label maps.

The ``pascal_2012`` folder holds one XML file per image::

    <annotation>
      <filename>2007_000032.png</filename>
      <size><width>500</width><height>281</height><depth>3</depth></size>
      <polygon>                         one scribble
        <tag>plane</tag>                VOC name, official or short form
        <point><X>167</X><Y>46</Y></point> ...   0-based pixel coordinates
      </polygon> ...
    </annotation>

Scribbles are drawn as polylines through their points (rloss's converter
draws them 3 pixels wide, which SPML's "dilate 3" scribbles use); later
scribbles overwrite earlier ones; every other pixel is unlabelled (254).
Points outside the image are clipped to it. :func:`shorten_scribble` keeps
the central part of each scribble: SPML's point setting is these
scribbles at length 0, one point per scribble, background scribbles
included (the reference's ``dilate_6_0.0`` maps).
"""

import xml.etree.ElementTree as ET
from typing import List, Tuple

import cv2
import numpy as np

from mmseg_spml.label_encoding import UNLABELLED

from .common import VOC_CLASS_LIST, ClassList

Scribble = Tuple[int, np.ndarray]  # (class id, (K, 2) int points as x, y)


def _int(node: ET.Element, tag: str, source: str) -> int:
    child = node.find(tag)
    if child is None or child.text is None:
        raise ValueError(f'{source}: <{node.tag}> has no <{tag}>')
    try:
        return int(round(float(child.text)))
    except ValueError as e:
        raise ValueError(
            f'{source}: <{tag}> is {child.text!r}, not a number'
        ) from e


def parse_scribblesup_xml(
    path: str, classes: ClassList = VOC_CLASS_LIST
) -> Tuple[Tuple[int, int], List[Scribble]]:
    """Read one ScribbleSup XML file.

    Args:
        path (str): The XML file.
        classes (ClassList): The names of ``<tag>``. Default: Pascal VOC's.

    Returns:
        tuple: ``((height, width), scribbles)`` with each scribble a
        ``(class id, points)`` pair, points an int array (K, 2) of (x, y).

    Raises:
        ValueError: For malformed files, naming the file and the element.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise ValueError(f'{path} is not valid XML: {e}') from e
    size = root.find('size')
    if size is None:
        raise ValueError(f'{path}: no <size> element')
    shape = (_int(size, 'height', path), _int(size, 'width', path))
    scribbles = []
    for polygon in root.iter('polygon'):
        tag = polygon.find('tag')
        if tag is None or not tag.text:
            raise ValueError(f'{path}: a <polygon> has no <tag>')
        points = [
            (_int(p, 'X', path), _int(p, 'Y', path))
            for p in polygon.iter('point')
        ]
        if points:
            scribbles.append(
                (
                    classes.id_of(tag.text, path),
                    np.array(points, dtype=np.int32),
                )
            )
    return shape, scribbles


def shorten_scribble(points: np.ndarray, ratio: float) -> np.ndarray:
    """The central ``ratio`` of a scribble's length.

    Args:
        points (np.ndarray): int (K, 2) polyline points as (x, y).
        ratio (float): Share of the arc length kept, in [0, 1]; 0 keeps
            the single point halfway along the scribble.

    Returns:
        np.ndarray: int32 (K', 2) points; (1, 2) for ``ratio`` 0.

    Raises:
        ValueError: For a ratio outside [0, 1].
    """
    if not 0 <= ratio <= 1:
        raise ValueError(f'length ratio must be in [0, 1], got {ratio}')
    pts = points.astype(np.float64)
    steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    if ratio == 1 or arc[-1] == 0:
        return points[:1] if arc[-1] == 0 else points

    def at(t: float) -> np.ndarray:
        i = min(int(np.searchsorted(arc, t, side='right')) - 1, len(steps) - 1)
        frac = (t - arc[i]) / steps[i] if steps[i] > 0 else 0.0
        return pts[i] + (pts[i + 1] - pts[i]) * frac

    lo, hi = arc[-1] * (1 - ratio) / 2, arc[-1] * (1 + ratio) / 2
    if ratio == 0:
        kept = at(lo)[None]
    else:
        inner = pts[(arc > lo) & (arc < hi)]
        kept = np.vstack([at(lo)[None], inner, at(hi)[None]])
    return np.round(kept).astype(np.int32)


def rasterize_scribbles(
    shape: Tuple[int, int], scribbles: List[Scribble], thickness: int = 3
) -> np.ndarray:
    """Draw scribbles into a weak label map.

    Args:
        shape (tuple[int, int]): ``(height, width)`` of the image.
        scribbles (list): ``(class id, points (K, 2) as x, y)`` pairs.
        thickness (int): Line width in pixels; a one-point scribble is a
            disk of radius ``thickness // 2``. Default: 3.

    Returns:
        np.ndarray: uint8 (H, W): class ids on the scribbles, 254
        elsewhere.
    """
    height, width = shape
    label = np.full(shape, UNLABELLED, np.uint8)
    for cls, points in scribbles:
        pts = np.clip(points, 0, [width - 1, height - 1]).astype(np.int32)
        if len(pts) == 1:
            cv2.circle(
                label,
                tuple(int(v) for v in pts[0]),
                max(thickness // 2, 0),
                int(cls),
                -1,
            )
        else:
            cv2.polylines(
                label, [pts.reshape(-1, 1, 2)], False, int(cls), thickness
            )
    return label
