# Copyright (c) mmseg-spml contributors. All rights reserved.
"""A segmentation dataset that also carries weak labels, superpixels and
image tags."""

import json
import os.path as osp
from typing import Dict, List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from mmseg_spml.label_encoding import MAX_CLASSES

#: How to give a weak training set the background labels it lacks (the end
#: of every message that reports one without them).
ADD_BACKGROUND = (
    'add background labels (for points: ScribbleSup scribbles reduced to '
    'points, tools/dataset_converters/scribblesup.py --length-ratio 0, or '
    'background clicks with "cls": 0)'
)


@DATASETS.register_module()
class WeakSegDataset(BaseSegDataset):
    """Pascal VOC-layout dataset with optional weak annotations.

    On top of :class:`BaseSegDataset` (images + full masks, which stay the
    evaluation target), each sample may carry

    * ``weak_map_path``: a weak label PNG (class ids, 254 unlabelled, 255
      void) from ``data_prefix['weak_path']``, loaded by
      ``LoadWeakAnnotations`` in place of the full mask;
    * ``superpixel_path``: precomputed low-level regions (HED/UCM ids) from
      ``data_prefix['superpixel_path']``, loaded by ``LoadSuperpixels``;
    * ``img_tags``: image-level tags from ``tags_file``, a JSON file
      ``{image stem: [class ids]}`` (as written by
      ``tools/make_weak_labels.py``). Without it, ``LoadWeakAnnotations``
      derives the tags from the uncropped weak label map.

    Every extra file is checked when the dataset is built, so a missing
    file is reported at once and by name. So is a weak training set whose
    ``tags_file`` has no background (class 0) in any image: a segmenter
    trained on it never sees a background label (What's-the-point clicks
    are like that), and SPML's semantic annotation has no background
    segments to contrast with.

    Example:
        >>> dataset = dict(
        ...     type='WeakSegDataset',
        ...     data_root='data/VOCdevkit/VOC2012',
        ...     ann_file='ImageSets/Segmentation/train_aug.txt',
        ...     data_prefix=dict(img_path='JPEGImages',
        ...                      seg_map_path='SegmentationClassAug',
        ...                      weak_path='scribbles'),
        ...     metainfo=dict(classes=VOC_CLASSES),
        ...     pipeline=train_pipeline)

    Args:
        tags_file (str, optional): JSON tags file, relative to ``data_root``
            unless absolute. Default: None.
        require_background (bool): With weak maps and ``tags_file``,
            refuse tags without class 0 in every image. Set False only for
            label sets whose class 0 is not a background. Default: True.
        img_suffix (str): Default: '.jpg'.
        seg_map_suffix (str): Suffix of masks, weak maps and superpixel
            maps. Default: '.png'.
        **kwargs: Passed to :class:`BaseSegDataset`.
    """

    def __init__(
        self,
        tags_file: Optional[str] = None,
        require_background: bool = True,
        img_suffix: str = '.jpg',
        seg_map_suffix: str = '.png',
        **kwargs,
    ) -> None:
        self.tags_file = tags_file
        self.require_background = require_background
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )

    def _load_tags(self) -> Optional[Dict[str, List[int]]]:
        if self.tags_file is None:
            return None
        path = self.tags_file
        if self.data_root and not osp.isabs(path):
            path = osp.join(self.data_root, path)
        if not osp.isfile(path):
            raise FileNotFoundError(f'tags_file {path} does not exist')
        with open(path) as f:
            tags = json.load(f)
        num_classes = len(self.metainfo['classes'])
        for name, ids in tags.items():
            bad = [c for c in ids if not 0 <= c < num_classes]
            if bad:
                raise ValueError(
                    f'{path}: image {name} has tags {bad} outside '
                    f'[0, {num_classes - 1}] ({num_classes} classes)'
                )
        return tags

    def load_data_list(self) -> List[dict]:
        """Add the weak-annotation paths and tags to each sample."""
        data_list = super().load_data_list()
        num_classes = len(self.metainfo['classes'])
        if num_classes > MAX_CLASSES:
            raise ValueError(
                f'{num_classes} classes do not fit the label '
                f'encoding (at most {MAX_CLASSES})'
            )
        tags = self._load_tags()
        extra = {
            key: self.data_prefix.get(prefix)
            for key, prefix in (
                ('weak_map_path', 'weak_path'),
                ('superpixel_path', 'superpixel_path'),
            )
        }
        for info in data_list:
            stem = osp.splitext(osp.basename(info['img_path']))[0]
            info['num_classes'] = num_classes
            for key, folder in extra.items():
                if folder is None:
                    continue
                path = osp.join(folder, stem + self.seg_map_suffix)
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{key[:-5]} file {path} for image '
                        f'{info["img_path"]} does not exist'
                    )
                info[key] = path
            if tags is not None:
                if stem not in tags:
                    raise KeyError(
                        f'{self.tags_file} has no tags for image {stem}'
                    )
                info['img_tags'] = sorted(tags[stem])
        if (
            self.require_background
            and tags is not None
            and extra['weak_map_path'] is not None
            and data_list
            and not any(0 in info['img_tags'] for info in data_list)
        ):
            raise ValueError(
                f'no image of {self.tags_file} has the background class 0: '
                'the weak maps of '
                f'{self.data_prefix["weak_path"]} label objects only, and a '
                f'segmenter trained on them never learns background: '
                f'{ADD_BACKGROUND}, or set require_background=False if '
                'class 0 is not a background'
            )
        return data_list
