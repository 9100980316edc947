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
Points outside the image are clipped to it.
"""

import xml.etree.ElementTree as ET
from typing import List, Tuple

import cv2
import numpy as np

from ..constants import UNLABELLED
from .common import voc_class_id

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


def parse_scribblesup_xml(path: str) -> Tuple[Tuple[int, int], List[Scribble]]:
    """Read one ScribbleSup XML file.

    Args:
        path (str): The XML file.

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
                    voc_class_id(tag.text, path),
                    np.array(points, dtype=np.int32),
                )
            )
    return shape, scribbles


def rasterize_scribbles(
    shape: Tuple[int, int], scribbles: List[Scribble], thickness: int = 3
) -> np.ndarray:
    """Draw scribbles into a weak label map.

    Args:
        shape (tuple[int, int]): ``(height, width)`` of the image.
        scribbles (list): ``(class id, points (K, 2) as x, y)`` pairs.
        thickness (int): Line width in pixels. Default: 3.

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
