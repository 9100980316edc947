# Copyright (c) mmseg-spml contributors. All rights reserved.
"""DensePose coarse body parts: dataset and flip-aware part labels."""

from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS, TRANSFORMS

from .converters.densepose import DENSEPOSE_FLIP_MAP, DENSEPOSE_PART_CLASSES
from .weak_seg_dataset import WeakSegDataset

#: Colours of the 15 part classes: VOC's colour map.
DENSEPOSE_PALETTE = [
    list(c) for c in PascalVOCDataset.METAINFO['palette'][:15]
]


@DATASETS.register_module()
class DensePosePartsDataset(WeakSegDataset):
    """COCO images with DensePose's 15 coarse part classes.

    Written by ``tools/dataset_converters/densepose.py``: full part masks
    in ``SegmentationPart`` (evaluation) and part points in ``points``
    (training, with ``points/tags.json``).

    Example:
        >>> dataset = dict(type='DensePosePartsDataset',
        ...                data_root='data/densepose',
        ...                ann_file='ImageSets/train.txt',
        ...                data_prefix=dict(img_path='../coco/train2014',
        ...                                 seg_map_path='SegmentationPart',
        ...                                 weak_path='points'),
        ...                tags_file='points/tags.json', pipeline=pipeline)
    """

    METAINFO = dict(classes=DENSEPOSE_PART_CLASSES, palette=DENSEPOSE_PALETTE)


@TRANSFORMS.register_module()
class FlipPartLabels(BaseTransform):
    """Swap left/right labels after a horizontal flip.

    Put right after ``RandomFlip``: if the sample was flipped horizontally,
    every class id ``c`` of the listed fields becomes ``flip_map[c]``
    (unlabelled and void stay), and the image tags follow.

    Args:
        flip_map (Sequence[int]): New id of each class. Default: DensePose's
            (left and right hands, feet, legs and arms swapped).
        keys (Sequence[str]): Fields to relabel. Default: ('gt_seg_map', ).
    """

    def __init__(
        self,
        flip_map: Sequence[int] = DENSEPOSE_FLIP_MAP,
        keys: Sequence[str] = ('gt_seg_map',),
    ) -> None:
        if sorted(flip_map) != list(range(len(flip_map))):
            raise ValueError(
                'flip_map must be a permutation of '
                f'0..{len(flip_map) - 1}, got {flip_map}'
            )
        self.lut = np.arange(256, dtype=np.uint8)
        self.lut[: len(flip_map)] = flip_map
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        if (
            results.get('flip')
            and results.get('flip_direction', 'horizontal') == 'horizontal'
        ):
            for key in self.keys:
                if key in results:
                    results[key] = self.lut[results[key]]
            if results.get('img_tags') is not None:
                results['img_tags'] = sorted(
                    int(self.lut[t]) for t in results['img_tags']
                )
        return results
