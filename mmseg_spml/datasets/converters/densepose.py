# Copyright (c) mmseg-spml contributors. All rights reserved.
"""COCO-DensePose annotations to coarse body-part label maps.

A DensePose annotation (``densepose_coco_2014_*.json``) of a person holds,
next to the COCO ``bbox`` ``[x, y, w, h]``, ``dp_masks``: 14 RLE masks on a
256x256 grid stretched over the box, one per coarse part (part ``i`` is
label ``i + 1``). Pasted into the image they give the 15-class part
segmentation SPML's DensePose experiments use (background + 14 parts, the
order of :data:`DENSEPOSE_PART_CLASSES`).
"""

from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from mmseg_spml.label_encoding import IGNORE_INDEX

#: The 15 coarse part classes (DensePose's data_format.md order).
DENSEPOSE_PART_CLASSES: Tuple[str, ...] = (
    'background',
    'torso',
    'right_hand',
    'left_hand',
    'left_foot',
    'right_foot',
    'upper_leg_right',
    'upper_leg_left',
    'lower_leg_right',
    'lower_leg_left',
    'upper_arm_left',
    'upper_arm_right',
    'lower_arm_left',
    'lower_arm_right',
    'head',
)
#: Label each class takes in a horizontally flipped image (left <-> right).
DENSEPOSE_FLIP_MAP: Tuple[int, ...] = (
    0,
    1,
    3,
    2,
    5,
    4,
    7,
    6,
    9,
    8,
    11,
    10,
    13,
    12,
    14,
)
_GRID = 256


def decode_dp_masks(dp_masks: Sequence[dict], source: str) -> np.ndarray:
    """The 256x256 part map of one person.

    Args:
        dp_masks (Sequence[dict]): The 14 RLEs (empty entries allowed).
        source (str): For error messages.

    Returns:
        np.ndarray: uint8 (256, 256), 0 = not the person, 1..14 = parts.
    """
    if len(dp_masks) != 14:
        raise ValueError(
            f'{source}: dp_masks has {len(dp_masks)} entries, expected 14'
        )
    parts = np.zeros((_GRID, _GRID), np.uint8)
    for i, rle in enumerate(dp_masks):
        if rle:
            parts[mask_utils.decode(rle) > 0] = i + 1
    return parts


def paste_parts(
    label: np.ndarray, parts: np.ndarray, bbox: Sequence[float]
) -> None:
    """Paste a 256x256 part map into ``label`` over ``bbox`` (x, y, w, h),
    in place; only the person's pixels (parts > 0) are written."""
    height, width = label.shape
    x1, y1 = max(int(bbox[0]), 0), max(int(bbox[1]), 0)
    x2 = min(int(bbox[0] + bbox[2]), width)
    y2 = min(int(bbox[1] + bbox[3]), height)
    if x2 <= x1 or y2 <= y1:
        return
    # Resize the grid to the full box, then keep the part inside the image.
    full_w = max(int(bbox[0] + bbox[2]) - int(bbox[0]), 1)
    full_h = max(int(bbox[1] + bbox[3]) - int(bbox[1]), 1)
    resized = cv2.resize(
        parts, (full_w, full_h), interpolation=cv2.INTER_NEAREST
    )
    ox, oy = x1 - int(bbox[0]), y1 - int(bbox[1])
    crop = resized[oy : oy + y2 - y1, ox : ox + x2 - x1]
    region = label[y1:y2, x1:x2]
    region[crop > 0] = crop[crop > 0]


def image_part_maps(
    image: dict, anns: List[dict]
) -> Tuple[np.ndarray, np.ndarray]:
    """Part labels and person instances of one COCO image.

    Persons with DensePose annotations are pasted with their parts;
    persons without them (COCO annotated them, DensePose did not) are
    void (255), since their parts are unknown.

    Args:
        image (dict): The COCO ``images`` entry (``height``, ``width``).
        anns (list[dict]): The image's person annotations.

    Returns:
        tuple: uint8 part map (H, W) and uint8 person-instance map (H, W),
        0 = no annotated person, 255 = void.
    """
    shape = (image['height'], image['width'])
    label = np.zeros(shape, np.uint8)
    instance = np.zeros(shape, np.uint8)
    source = f'image {image.get("file_name", image.get("id"))}'
    for k, ann in enumerate(anns, 1):
        if 'dp_masks' in ann:
            person = np.zeros(shape, np.uint8)
            paste_parts(
                person, decode_dp_masks(ann['dp_masks'], source), ann['bbox']
            )
            label[person > 0] = person[person > 0]
            instance[person > 0] = min(k, IGNORE_INDEX - 1)
        elif ann.get('segmentation') and not ann.get('iscrowd', 0):
            rles = mask_utils.frPyObjects(ann['segmentation'], *shape)
            void = mask_utils.decode(mask_utils.merge(rles)) > 0
            label[void & (label == 0)] = IGNORE_INDEX
    instance[label == IGNORE_INDEX] = IGNORE_INDEX
    return label, instance


def group_annotations(coco: dict) -> Dict[int, List[dict]]:
    """Person annotations per image id of a COCO(-DensePose) dict."""
    groups: Dict[int, List[dict]] = {img['id']: [] for img in coco['images']}
    for ann in coco.get('annotations', []):
        if ann['image_id'] in groups:
            groups[ann['image_id']].append(ann)
    return groups
