# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The embedded demo data set as a registered MMSeg dataset."""

import hashlib
import json
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmengine.config import Config
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_spml.utils.io import (
    atomic_directory,
    label_palette,
    save_json,
    save_label_png,
)

from .demo_scene_generator import (
    DEMO_CLASSES,
    DEMO_PALETTE,
    DemoSceneConfig,
    default_demo_root,
    ensure_demo_scenes,
    split_names,
)
from .superpixels import (
    compute_superpixels,
    save_superpixels,
    superpixel_params,
)
from .weak_seg_dataset import WeakSegDataset
from .weak_synthesis import image_seed, synthesize_weak_labels

#: Version of the weak-label cache format, part of the folder name's hash:
#: bump it whenever synthesis changes what a given ``weak`` dict produces,
#: so that caches written by older code are never reused. 2: point and
#: scribble radii scaled to the image size, ``boxes.json`` for boxes.
WEAK_CACHE_VERSION = 2


def ensure_demo_weak_labels(root: str, weak: dict) -> str:
    """Synthesise weak labels for all demo images once; return their folder.

    The folder, ``<root>/weak_<type>-<hash>`` (the hash covers ``weak``,
    the seed and :data:`WEAK_CACHE_VERSION`), holds one label PNG per image
    (train and val), ``boxes.json`` for boxes (``{stem: [[cls, x1, y1, x2,
    y2], ...]}``, 0-based inclusive, as the box converters write it) and
    ``tags.json``, the file written last, which marks the folder complete.
    The folder is written to a temporary folder and renamed, so it is
    complete or absent.

    Args:
        root (str): Demo data folder (with ``meta.json``).
        weak (dict): ``type`` (points, scribbles, boxes, tags) and keyword
            arguments of :func:`synthesize_weak_labels` (``radius``,
            ``length_ratio``, ``box_labels``, ``box_core``...; ``seed``
            defaults to 0).

    Returns:
        str: The folder name, relative to ``root``.
    """
    params = dict(weak)
    if 'type' not in params:
        raise ValueError(
            f'weak must name the annotation type, e.g. '
            f"dict(type='points'), got {weak!r}"
        )
    kind = params.pop('type')
    seed = params.pop('seed', 0)
    digest = hashlib.sha256(
        json.dumps(
            dict(weak, seed=seed, version=WEAK_CACHE_VERSION), sort_keys=True
        ).encode()
    )
    name = f'weak_{kind}-{digest.hexdigest()[:8]}'
    folder = osp.join(root, name)
    if osp.isfile(osp.join(folder, 'tags.json')):
        return name
    with open(osp.join(root, 'meta.json')) as f:
        cfg = DemoSceneConfig(
            **{
                k: v
                for k, v in json.load(f).items()
                if k in DemoSceneConfig.__dataclass_fields__
            }
        )
    with atomic_directory(folder, 'tags.json') as tmp:
        tags, boxes = {}, {}
        palette = label_palette(DEMO_PALETTE)
        splits = split_names(cfg)
        for stem in splits['train'] + splits['val']:
            semantic = np.array(
                Image.open(osp.join(root, 'SegmentationClass', stem + '.png'))
            )
            instance = np.array(
                Image.open(osp.join(root, 'SegmentationObject', stem + '.png'))
            )
            ann = synthesize_weak_labels(
                kind,
                semantic,
                instance,
                num_classes=len(DEMO_CLASSES),
                seed=image_seed(seed, stem),
                **params,
            )
            save_label_png(osp.join(tmp, stem + '.png'), ann.label, palette)
            tags[stem] = ann.tags
            boxes[stem] = [list(box) for box in ann.boxes]
        if kind == 'boxes':
            save_json(osp.join(tmp, 'boxes.json'), boxes)
        save_json(osp.join(tmp, 'tags.json'), tags)  # last: marks complete
    return name


def ensure_demo_superpixels(root: str, superpixels: dict) -> str:
    """Compute the superpixels of all demo images once; return their
    folder.

    The folder, ``<root>/superpixels_<method>-<hash of the parameters>``,
    holds one 16-bit PNG of region ids per image (train and val, read by
    ``LoadSuperpixels``) and ``params.json``, written last, which marks it
    complete; it is written to a temporary folder and renamed. The regions
    are those ``ComputeSuperpixels`` computes on the fly from the same
    image, without the per-iteration cost in the data workers.

    Args:
        root (str): Demo data folder (with ``meta.json``).
        superpixels (dict): ``method`` (default felzenszwalb) and keyword
            arguments of :func:`compute_superpixels`.

    Returns:
        str: The folder name, relative to ``root``.
    """
    kwargs = dict(superpixels)
    method = kwargs.pop('method', 'felzenszwalb')
    params = dict(method=method, **superpixel_params(method, **kwargs))
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    name = f'superpixels_{method}-{digest.hexdigest()[:8]}'
    folder = osp.join(root, name)
    if osp.isfile(osp.join(folder, 'params.json')):
        return name
    with open(osp.join(root, 'meta.json')) as f:
        cfg = DemoSceneConfig(
            **{
                k: v
                for k, v in json.load(f).items()
                if k in DemoSceneConfig.__dataclass_fields__
            }
        )
    with atomic_directory(folder, 'params.json') as tmp:
        splits = split_names(cfg)
        for stem in splits['train'] + splits['val']:
            bgr = mmcv.imread(osp.join(root, 'JPEGImages', stem + '.jpg'))
            regions = compute_superpixels(bgr[..., ::-1].copy(), **params)
            save_superpixels(osp.join(tmp, stem + '.png'), regions)
        save_json(osp.join(tmp, 'params.json'), params)
    return name


def demo_data_root(config: str) -> str:
    """Data folder of the demo data a config trains on (the cache folder
    of its training set's ``generator``)."""
    dataset = Config.fromfile(config).train_dataloader.dataset
    root = dataset.get('data_root')
    if root:
        return root
    return default_demo_root(
        DemoSceneConfig(**(dataset.get('generator') or {}))
    )


@DATASETS.register_module()
class DemoScenesDataset(WeakSegDataset):
    """Synthetic scenes of striped/dotted ellipses, boxes and triangles.

    The data is generated deterministically on first use (no download) into
    a cache folder, see :mod:`mmseg_spml.datasets.demo_scene_generator`;
    the folder follows the Pascal VOC layout, so everything that reads VOC
    reads it too. With ``weak``, weak labels are synthesised from the full
    masks (once, cached next to the data) and loaded as the training
    target, with their image tags.

    Example:
        >>> train = dict(type='DemoScenesDataset',
        ...              ann_file='ImageSets/Segmentation/train.txt',
        ...              weak=dict(type='scribbles', length_ratio=0.5),
        ...              pipeline=train_pipeline)

    Args:
        ann_file (str): Split file relative to ``data_root``.
            Default: 'ImageSets/Segmentation/train.txt'.
        data_root (str, optional): Folder of the data. ``None`` means the
            cache folder derived from ``generator`` (``$MMSEG_SPML_DATA``
            or ``~/.cache/mmseg-spml/data``). Default: None.
        data_prefix (dict): Image and label folders relative to
            ``data_root`` (or absolute); keys not given keep VOC's
            ``JPEGImages`` and ``SegmentationClass``, so e.g.
            ``dict(seg_map_path='pseudo')`` trains on other full masks.
            Default: VOC's folders.
        generator (dict, optional): Keyword arguments of
            :class:`DemoSceneConfig` (sizes of the splits, image size,
            seed...). Default: None (the defaults of DemoSceneConfig).
        generate (bool): Generate the data if ``data_root`` does not exist.
            Default: True.
        weak (dict, optional): Weak labels to synthesise, e.g.
            ``dict(type='points')`` (radius scaled to the image size) or
            ``dict(type='boxes', box_labels='prior')``; see
            :func:`ensure_demo_weak_labels`. Default: None.
        superpixels (dict, optional): Superpixels to compute once (cached
            next to the data) and load with ``LoadSuperpixels``, e.g.
            ``dict(method='felzenszwalb')``; see
            :func:`ensure_demo_superpixels`. Default: None.
        **kwargs: Passed to :class:`WeakSegDataset`.
    """

    METAINFO = dict(classes=DEMO_CLASSES, palette=DEMO_PALETTE)

    def __init__(
        self,
        ann_file: str = 'ImageSets/Segmentation/train.txt',
        data_root: Optional[str] = None,
        data_prefix: Optional[dict] = None,
        generator: Optional[dict] = None,
        generate: bool = True,
        weak: Optional[dict] = None,
        superpixels: Optional[dict] = None,
        **kwargs,
    ) -> None:
        data_prefix = dict(
            dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
            **(data_prefix or {}),
        )
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
        if weak is not None:
            folder = ensure_demo_weak_labels(data_root, weak)
            data_prefix = dict(data_prefix, weak_path=folder)
            kwargs.setdefault('tags_file', osp.join(folder, 'tags.json'))
        if superpixels is not None:
            folder = ensure_demo_superpixels(data_root, superpixels)
            data_prefix = dict(data_prefix, superpixel_path=folder)
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix='.jpg',
            seg_map_suffix='.png',
            **kwargs,
        )
