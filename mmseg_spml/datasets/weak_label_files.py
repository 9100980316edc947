# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Weak labels synthesised from a data set's full masks, one image's files
at a time (``tools/make_weak_labels.py``)."""

import os.path as osp
from typing import List, Optional, Tuple

from ..label_encoding import MAX_CLASSES
from ..utils.io import save_label_png
from .converters import VOC_LABEL_PALETTE
from .transforms.loading import read_label_map
from .weak_synthesis import image_seed, synthesize_weak_labels


def write_weak_label_file(
    name: str,
    kind: str,
    seg_dir: str,
    out_dir: str,
    inst_dir: Optional[str] = None,
    seed: int = 0,
    num_classes: Optional[int] = None,
    **options,
) -> Tuple[str, List[int], List[List[int]]]:
    """Synthesise one image's weak annotation and write its label map.

    Args:
        name (str): The image's stem: reads ``<seg_dir>/<name>.png`` (and
            ``<inst_dir>/<name>.png``), writes ``<out_dir>/<name>.png``
            (atomically, VOC palette; nothing for ``tags``).
        kind (str): One of
            :data:`~mmseg_spml.datasets.weak_synthesis.WEAK_TYPES`.
        seg_dir (str): Folder of the class PNGs.
        out_dir (str): Output folder.
        inst_dir (str, optional): Folder of instance PNGs; None: the
            regions are connected components of each class.
        seed (int): The run's seed; the image's own is
            :func:`~mmseg_spml.datasets.weak_synthesis.image_seed` of it
            and ``name``, so results do not depend on the order or the
            number of worker processes.
        num_classes (int, optional): Ids from here on are not tags
            (default: all but 254/255).
        **options: Further arguments of
            :func:`~mmseg_spml.datasets.weak_synthesis.synthesize_weak_labels`
            (``radius``, ``length_ratio``, ``box_labels``...).

    Returns:
        tuple: The name, the image's tags (list of int) and its boxes
        (``[cls, x1, y1, x2, y2]`` lists; empty unless ``kind='boxes'``).

    Raises:
        FileNotFoundError: If a label file is missing.
        ValueError: If the instance map's shape differs from the class
            map's (the message names the file).
    """
    semantic = read_label_map(osp.join(seg_dir, name + '.png'))
    instance = None
    if inst_dir is not None:
        inst_path = osp.join(inst_dir, name + '.png')
        instance = read_label_map(inst_path)
        if instance.shape != semantic.shape:
            raise ValueError(
                f'{inst_path} has shape {instance.shape} but its class map '
                f'has {semantic.shape}'
            )
    weak = synthesize_weak_labels(
        kind,
        semantic,
        instance,
        num_classes=num_classes or MAX_CLASSES,
        seed=image_seed(seed, name),
        **options,
    )
    if kind != 'tags':
        save_label_png(
            osp.join(out_dir, name + '.png'), weak.label, VOC_LABEL_PALETTE
        )
    return name, weak.tags, [list(box) for box in weak.boxes]
