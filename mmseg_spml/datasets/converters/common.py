# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Pieces shared by the converters of public annotation formats: the class
list (Pascal VOC's, or a user's) and its PNG palette."""

import os.path as osp
from dataclasses import dataclass, field
from functools import cached_property
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config
from mmseg.datasets import PascalVOCDataset

from mmseg_spml.label_encoding import MAX_CLASSES
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


def _key(name: str) -> str:
    """A class name as compared: lower case, without spaces/underscores."""
    return name.strip().lower().replace(' ', '').replace('_', '')


@dataclass(frozen=True)
class ClassList:
    """The classes of an annotation set: id ``i`` is ``names[i]``, id 0 is
    the background.

    Names match case-insensitively, ignoring spaces and underscores
    (``'Potted Plant'`` is ``pottedplant``); ``aliases`` maps other
    spellings of the annotation files to a name.

    Args:
        names (tuple[str]): Class names, background first.
        aliases (dict[str, str]): Alternative name -> name. Default: {}.
        source (str): Where the list comes from, for messages.
            Default: 'the class list'.
    """

    names: Tuple[str, ...]
    aliases: Dict[str, str] = field(default_factory=dict)
    source: str = 'the class list'

    def __post_init__(self) -> None:
        if not 1 < len(self.names) <= MAX_CLASSES:
            raise ValueError(
                f'{self.source}: needs 2..{MAX_CLASSES} classes '
                f'(background first), got {len(self.names)}'
            )
        keys = [_key(n) for n in self.names]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated or '' in keys:
            raise ValueError(
                f'{self.source}: class names must be non-empty and '
                f'distinct (ignoring case, spaces, underscores); '
                f'repeated: {repeated}'
            )

    def __len__(self) -> int:
        return len(self.names)

    @cached_property
    def _ids(self) -> Dict[str, int]:
        """Compared name -> id."""
        return {_key(n): i for i, n in enumerate(self.names)}

    def id_of(self, name: str, source: str) -> int:
        """The id of ``name`` as written in the annotation file ``source``.

        Raises:
            ValueError: For an unknown name, naming the file and the list.
        """
        key = _key(name)
        key = _key(self.aliases.get(key, key))
        if key not in self._ids:
            raise ValueError(
                f'{source}: unknown class name {name!r}; expected one of '
                f'{", ".join(self.names)} ({self.source})'
            )
        return self._ids[key]

    @cached_property
    def palette(self) -> list:
        """The 256-entry PNG palette of label maps: VOC's colours, then
        fixed pseudo-random ones for further classes."""
        colours = [list(c) for c in PascalVOCDataset.METAINFO['palette']]
        rng = np.random.default_rng(0)
        while len(colours) < len(self.names):
            colours.append(rng.integers(0, 256, 3).tolist())
        return label_palette(colours[: len(self.names)])


#: Pascal VOC's 21 classes with their short spellings.
VOC_CLASS_LIST = ClassList(VOC_CLASSES, VOC_ALIASES, 'Pascal VOC')


def load_class_list(path: Optional[str] = None) -> ClassList:
    """The class list of a converter: VOC's, a text file or a config.

    A text file has one class name per line, background first (line ``i``
    is id ``i``); blank lines and lines starting with ``#`` are skipped. A
    config (``.py``) gives ``classes`` through the training set's
    ``metainfo`` (``train_dataloader.dataset.metainfo.classes``) or a
    top-level ``metainfo``/``classes``, as MMSeg configs do.

    Args:
        path (str, optional): The file; None for Pascal VOC's classes.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If it holds no usable class list, naming the file.
    """
    if path is None:
        return VOC_CLASS_LIST
    if not osp.isfile(path):
        raise FileNotFoundError(f'class list {path} does not exist')
    if path.endswith('.py'):
        names = _config_classes(Config.fromfile(path), path)
    else:
        with open(path) as f:
            names = [
                line.strip()
                for line in f
                if line.strip() and not line.lstrip().startswith('#')
            ]
    return ClassList(tuple(names), source=path)


def _config_classes(cfg: Config, path: str) -> Sequence[str]:
    """``classes`` of a config's training set metainfo, or top level."""
    candidates = [
        cfg.get('train_dataloader', {}).get('dataset', {}).get('metainfo'),
        cfg.get('metainfo'),
        cfg,
    ]
    for holder in candidates:
        if holder and holder.get('classes'):
            return [str(c) for c in holder['classes']]
    raise ValueError(
        f'{path} defines no classes: expected '
        'train_dataloader.dataset.metainfo.classes, metainfo.classes or '
        'classes'
    )


def voc_class_id(name: str, source: str) -> int:
    """Id of a VOC class name (official or short form, any case).

    Args:
        name (str): Class name as written in the annotation.
        source (str): The file it comes from, for the error message.

    Raises:
        ValueError: For an unknown name.
    """
    return VOC_CLASS_LIST.id_of(name, source)
