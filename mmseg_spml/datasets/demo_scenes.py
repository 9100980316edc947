# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The embedded demo data set as a registered MMSeg dataset."""

import os.path as osp
from typing import Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .demo_scene_generator import (
    DEMO_CLASSES,
    DEMO_PALETTE,
    DemoSceneConfig,
    default_demo_root,
    ensure_demo_scenes,
)


@DATASETS.register_module()
class DemoScenesDataset(BaseSegDataset):
    """Synthetic scenes of striped/dotted ellipses, boxes and triangles.

    The data is generated deterministically on first use (no download) into
    a cache folder, see :mod:`mmseg_spml.datasets.demo_scene_generator`;
    the folder follows the Pascal VOC layout, so everything that reads VOC
    reads it too.

    Example:
        >>> train = dict(type='DemoScenesDataset',
        ...              ann_file='ImageSets/Segmentation/train.txt',
        ...              pipeline=train_pipeline)

    Args:
        ann_file (str): Split file relative to ``data_root``.
            Default: 'ImageSets/Segmentation/train.txt'.
        data_root (str, optional): Folder of the data. ``None`` means the
            cache folder derived from ``generator`` (``$MMSEG_SPML_DATA``
            or ``~/.cache/mmseg-spml/data``). Default: None.
        data_prefix (dict): Image and label folders relative to
            ``data_root``. Default: VOC's ``JPEGImages`` and
            ``SegmentationClass``.
        generator (dict, optional): Keyword arguments of
            :class:`DemoSceneConfig` (sizes of the splits, image size,
            seed...). Default: None (the defaults of DemoSceneConfig).
        generate (bool): Generate the data if ``data_root`` does not exist.
            Default: True.
        **kwargs: Passed to :class:`BaseSegDataset`.
    """

    METAINFO = dict(classes=DEMO_CLASSES, palette=DEMO_PALETTE)

    def __init__(
        self,
        ann_file: str = 'ImageSets/Segmentation/train.txt',
        data_root: Optional[str] = None,
        data_prefix: dict = dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'
        ),
        generator: Optional[dict] = None,
        generate: bool = True,
        **kwargs,
    ) -> None:
        gen_cfg = DemoSceneConfig(**(generator or {}))
        if data_root is None:
            data_root = default_demo_root(gen_cfg)
        if generate:
            ensure_demo_scenes(data_root, gen_cfg)
        elif not osp.isdir(data_root):
            raise FileNotFoundError(
                f'demo data folder {data_root} does not exist: set '
                'generate=True or write it with '
                f'`python tools/misc/make_demo_data.py --out {data_root}`'
            )
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix='.jpg',
            seg_map_suffix='.png',
            **kwargs,
        )
