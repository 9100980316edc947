# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pieces shared by the converters of public annotation formats."""

from typing import Dict, Tuple

from mmseg.datasets import PascalVOCDataset

from mmseg_spml.utils.io import label_palette

#: The 21 Pascal VOC classes, background first (ids 0..20).
VOC_CLASSES: Tuple[str, ...] = tuple(PascalVOCDataset.METAINFO['classes'])
#: PNG palette of label maps in VOC colours (254 white, 255 cream).
VOC_LABEL_PALETTE = label_palette(PascalVOCDataset.METAINFO['palette'])
#: Short names used by some annotation sets (e.g. ScribbleSup's XML).
VOC_ALIASES: Dict[str, str] = {
    'plane': 'aeroplane',
    'bike': 'bicycle',
    'motorcycle': 'motorbike',
    'table': 'diningtable',
    'plant': 'pottedplant',
    'monitor': 'tvmonitor',
    'tv': 'tvmonitor',
}


def voc_class_id(name: str, source: str) -> int:
    """Id of a VOC class name (official or short form, any case).

    Args:
        name (str): Class name as written in the annotation.
        source (str): The file it comes from, for the error message.

    Raises:
        ValueError: For an unknown name.
    """
    key = name.strip().lower().replace(' ', '')
    key = VOC_ALIASES.get(key, key)
    if key not in VOC_CLASSES:
        raise ValueError(
            f'{source}: unknown class name {name!r}; expected '
            f'one of {", ".join(VOC_CLASSES)}'
        )
    return VOC_CLASSES.index(key)
