# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The CAM inference views of a CAM config, and one training image's CAM
file content (``tools/make_cams.py``)."""

from typing import Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config

from mmseg_spml.models.segmentors import cam_test_settings
from mmseg_spml.models.utils import preprocess_sample
from mmseg_spml.pseudo_masks import normalize_cams


def cam_test_cfg_of(cfg: Config) -> dict:
    """The CAM inference views of a CAM config: its model's ``test_cfg``
    (validation and ``tools/make_cams.py`` use the same views).

    A data set whose images are much smaller or larger than Pascal VOC's
    sets ``model.test_cfg.scales`` in its CAM config; without it IRN's VOC
    scales (:data:`~mmseg_spml.models.segmentors.IRN_CAM_SCALES`) apply.

    Args:
        cfg (Config): The CAMClassifier's config.

    Returns:
        dict: ``scales`` (tuple[float]) and ``flip`` (bool), as
        :func:`~mmseg_spml.models.segmentors.cam_test_settings`.

    Raises:
        ValueError: If the test_cfg is not a valid one.
    """
    return cam_test_settings(cfg.model.get('test_cfg'))


@torch.no_grad()
def image_cams(
    model: torch.nn.Module,
    data: dict,
    scales: Sequence[float],
    flip: bool,
) -> Tuple[np.ndarray, np.ndarray]:
    """The CAMs of one training image's foreground tags, as a CAM file
    holds them (:func:`~mmseg_spml.pseudo_masks.save_cam_file`).

    Args:
        model (CAMClassifier): The model, in eval mode.
        data (dict): The sample as the data set gives it (``inputs``
            (3, H, W), ``data_samples`` with ``img_tags``).
        scales (Sequence[float]): Scale factors of the views
            (``CAMClassifier.multi_scale_cams``).
        flip (bool): Also average the horizontally flipped views.

    Returns:
        tuple: float (K, H, W) CAMs of the K foreground tags, each divided
        by its maximum (all-zero maps stay zero), and int64 (K, ) their
        class ids.

    Raises:
        ValueError: If the sample has no image tags (names the image).
    """
    sample = data['data_samples']
    tags = sample.metainfo.get('img_tags')
    if tags is None:
        raise ValueError(
            f'{sample.img_path} has no image tags: give the training set a '
            'tags_file (or weak labels)'
        )
    h, w = data['inputs'].shape[1:]
    cams = model.multi_scale_cams(
        preprocess_sample(model, data), scales, flip
    )[0]
    keys = np.array(sorted(t for t in tags if t > 0), dtype=np.int64)
    cams = normalize_cams(cams[keys - 1, :h, :w], eps=0)
    return cams.cpu().numpy(), keys
