# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Up-front checks of a weak training set: every image, weak map,
superpixel map and tag list, before hours of training find them one by one.

:func:`check_sample` reads one sample's files and lists its problems;
:func:`coverage_problems` looks at the whole set (classes that nothing
labels, no background). ``tools/analysis_tools/check_weak_dataset.py``
runs both over a config's training set.
"""

import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED

from .transforms.loading import read_label_map
from .weak_encoding import decode_weak_map, suspicious_encoding
from .weak_seg_dataset import ADD_BACKGROUND


@dataclass
class SampleCheck:
    """What :func:`check_sample` found in one sample.

    Attributes:
        name (str): The image's file name without suffix.
        problems (list[str]): One message per problem, each naming its
            file.
        labelled (list[int]): Classes labelled in the weak map.
        tags (list[int]): The sample's tags (from the tags file or, without
            one, the weak map's classes).
        unlabelled_share (float): Share of unlabelled pixels (254).
        regions (int): Superpixel regions; 0 without superpixels.
    """

    name: str
    problems: List[str] = field(default_factory=list)
    labelled: List[int] = field(default_factory=list)
    tags: List[int] = field(default_factory=list)
    unlabelled_share: float = 0.0
    regions: int = 0


def _read_png(
    path: str,
    what: str,
    problems: List[str],
    image: Tuple[str, Optional[Tuple[int, int]]],
) -> Optional[np.ndarray]:
    """A single-channel map, or None with a problem recorded; a problem
    too if its shape differs from the image's (``image``: its path and
    shape, None if it could not be read)."""
    if not osp.isfile(path):
        problems.append(f'{path}: {what} file does not exist')
        return None
    try:
        data = read_label_map(path)
    except ValueError as e:  # not a single-channel map
        problems.append(f'{e} ({what})')
        return None
    except Exception as e:  # noqa: BLE001  (any decoder error is reported)
        problems.append(f'{path}: {what} cannot be read ({e})')
        return None
    img_path, img_shape = image
    if img_shape is not None and data.shape != img_shape:
        problems.append(
            f'{path}: {what} has shape {data.shape} but image {img_path} '
            f'has {img_shape}'
        )
    return data


def check_sample(
    info: dict,
    num_classes: int,
    unlabelled_value: int = UNLABELLED,
    void_value: Optional[int] = IGNORE_INDEX,
) -> SampleCheck:
    """Read one sample's files and list what is wrong with them.

    Args:
        info (dict): A data-list entry of :class:`WeakSegDataset`:
            ``img_path`` and optionally ``weak_map_path``,
            ``superpixel_path`` and ``img_tags``.
        num_classes (int): Class ids are ``0..num_classes - 1``.
        unlabelled_value (int): The weak maps' unlabelled value.
            Default: 254.
        void_value (int, optional): Their void value. Default: 255.

    Returns:
        SampleCheck: Problems and statistics of the sample.
    """
    img_path = info['img_path']
    report = SampleCheck(osp.splitext(osp.basename(img_path))[0])
    problems = report.problems
    shape = None
    try:
        with Image.open(img_path) as img:
            shape = (img.height, img.width)
    except (OSError, ValueError) as e:
        problems.append(f'{img_path}: image cannot be read ({e})')
    weak_path = info.get('weak_map_path')
    if weak_path is not None:
        raw = _read_png(weak_path, 'weak map', problems, (img_path, shape))
        if raw is not None:
            try:
                weak = decode_weak_map(
                    raw, weak_path, num_classes, unlabelled_value, void_value
                )
            except ValueError as e:
                problems.append(str(e))
            else:
                reason = suspicious_encoding(raw, unlabelled_value, void_value)
                if reason is not None:
                    problems.append(f'{weak_path}: {reason}')
                report.labelled = np.unique(weak[weak < num_classes]).tolist()
                report.unlabelled_share = float((weak == UNLABELLED).mean())
    sp_path = info.get('superpixel_path')
    if sp_path is not None:
        regions = _read_png(
            sp_path, 'superpixel map', problems, (img_path, shape)
        )
        if regions is not None:
            report.regions = len(np.unique(regions))
    tags = info.get('img_tags')
    if tags is None:
        report.tags = list(report.labelled)
    else:
        report.tags = sorted(tags)
        missing = sorted(set(report.labelled) - set(tags))
        if missing:
            problems.append(
                f'{weak_path}: labels classes {missing} that the tags of '
                f'{report.name} ({report.tags}) lack'
            )
    return report


def class_coverage(
    checks: Sequence[SampleCheck], num_classes: int
) -> Dict[str, List[int]]:
    """Per class, the number of images that label it and that tag it.

    Returns:
        dict: ``labelled`` and ``tagged``, lists of ``num_classes`` counts.
    """
    labelled = np.zeros(num_classes, int)
    tagged = np.zeros(num_classes, int)
    for check in checks:
        labelled[check.labelled] += 1
        tagged[check.tags] += 1
    return dict(labelled=labelled.tolist(), tagged=tagged.tolist())


def coverage_problems(
    coverage: Dict[str, List[int]],
    classes: Sequence[str],
    weak_maps: bool,
) -> List[str]:
    """Problems of the whole set: no background label anywhere (with weak
    maps), or a class that no image labels or tags."""
    problems = []
    if weak_maps and coverage['labelled'][0] == 0:
        problems.append(
            f'no weak map labels the background ({classes[0]!r}, class 0): '
            f'a segmenter trained on them never learns background; '
            f'{ADD_BACKGROUND}'
        )
    absent = [
        f'{i} ({classes[i]})'
        for i in range(1, len(classes))
        if coverage['labelled'][i] == 0 and coverage['tagged'][i] == 0
    ]
    if absent:
        problems.append(
            f'classes {", ".join(absent)} are neither labelled nor tagged in '
            'any image: nothing can teach them'
        )
    return problems
