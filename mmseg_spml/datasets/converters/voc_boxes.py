# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pascal VOC detection XML (``Annotations/*.xml``) to box label maps."""

import xml.etree.ElementTree as ET
from typing import List, Tuple

import numpy as np

from ..box_labels import Box, box_map, box_tags
from .common import VOC_CLASS_LIST, ClassList


def parse_voc_boxes(
    path: str, classes: ClassList = VOC_CLASS_LIST
) -> Tuple[Tuple[int, int], List[Box]]:
    """Read the image size and object boxes of a VOC-format XML file.

    VOC boxes are 1-based inclusive pixel coordinates; they are returned
    0-based inclusive and clipped to the image.

    Args:
        path (str): The XML file.
        classes (ClassList): The names of ``<object><name>``.
            Default: Pascal VOC's.

    Returns:
        tuple: ``((height, width), boxes)`` with boxes as
        ``(class id, x1, y1, x2, y2)``.

    Raises:
        ValueError: For malformed files, naming the file and the element.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise ValueError(f'{path} is not valid XML: {e}') from e
    try:
        size = root.find('size')
        height = int(size.find('height').text)
        width = int(size.find('width').text)
    except (AttributeError, TypeError, ValueError) as e:
        raise ValueError(
            f'{path}: <size> needs integer <width> and <height>'
        ) from e
    boxes = []
    for i, obj in enumerate(root.iter('object')):
        name = obj.find('name')
        box = obj.find('bndbox')
        if name is None or box is None:
            raise ValueError(f'{path}: <object> {i} needs <name> and <bndbox>')
        try:
            x1, y1, x2, y2 = (
                int(round(float(box.find(k).text))) - 1
                for k in ('xmin', 'ymin', 'xmax', 'ymax')
            )
        except (AttributeError, TypeError, ValueError) as e:
            raise ValueError(
                f'{path}: <object> {i} ({name.text}) needs '
                'numeric xmin, ymin, xmax, ymax'
            ) from e
        x1, x2 = max(x1, 0), min(x2, width - 1)
        y1, y2 = max(y1, 0), min(y2, height - 1)
        if x2 < x1 or y2 < y1:
            raise ValueError(
                f'{path}: <object> {i} ({name.text}) has an empty box'
            )
        boxes.append((classes.id_of(name.text, path), x1, y1, x2, y2))
    return (height, width), boxes


def rasterize_boxes(
    shape: Tuple[int, int], boxes: List[Box]
) -> Tuple[np.ndarray, List[int]]:
    """Box label map and tags: background (0) outside all boxes,
    unlabelled (254) inside.

    :func:`~mmseg_spml.datasets.box_labels.box_map` and
    :func:`~mmseg_spml.datasets.box_labels.box_tags` of the boxes.

    Returns:
        tuple: The uint8 map (H, W) and the image tags (box classes, plus 0
        if any pixel is outside every box).
    """
    return box_map(shape, boxes), box_tags(shape, boxes)
