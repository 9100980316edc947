# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Readers of public weak-annotation formats (the CLIs are in
``tools/dataset_converters/``)."""

from .common import (
    VOC_ALIASES,
    VOC_CLASS_LIST,
    VOC_CLASSES,
    VOC_LABEL_PALETTE,
    ClassList,
    load_class_list,
    voc_class_id,
)
from .densepose import (
    DENSEPOSE_FLIP_MAP,
    DENSEPOSE_PART_CLASSES,
    decode_dp_masks,
    group_annotations,
    image_part_maps,
    paste_parts,
)
from .sbd import read_sbd_mat
from .scribblesup import (
    parse_scribblesup_xml,
    rasterize_scribbles,
    shorten_scribble,
)
from .voc_boxes import parse_voc_boxes, rasterize_boxes
from .whats_the_point import parse_clicks, rasterize_clicks

__all__ = [
    'ClassList',
    'VOC_CLASS_LIST',
    'load_class_list',
    'shorten_scribble',
    'DENSEPOSE_FLIP_MAP',
    'DENSEPOSE_PART_CLASSES',
    'decode_dp_masks',
    'group_annotations',
    'image_part_maps',
    'paste_parts',
    'VOC_ALIASES',
    'VOC_LABEL_PALETTE',
    'VOC_CLASSES',
    'parse_clicks',
    'parse_scribblesup_xml',
    'parse_voc_boxes',
    'rasterize_boxes',
    'rasterize_clicks',
    'rasterize_scribbles',
    'read_sbd_mat',
    'voc_class_id',
]
