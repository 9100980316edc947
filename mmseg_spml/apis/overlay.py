# Copyright (c) mmseg-spml contributors. All rights reserved.
"""A prediction drawn over its image (``tools/demo/image_demo.py``)."""

import os.path as osp

import numpy as np
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer
from torch import nn

#: Extensions OpenCV can encode an overlay to.
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def draw_overlay(
    model: nn.Module,
    image: np.ndarray,
    result: SegDataSample,
    opacity: float = 0.5,
    with_labels: bool = False,
) -> np.ndarray:
    """Blend the predicted segmentation over the image.

    Args:
        model (nn.Module): The segmentor, for ``dataset_meta``.
        image (np.ndarray): The input image, RGB, (H, W, 3) uint8.
        result (SegDataSample): ``mmseg.apis.inference_model``'s output,
            with ``pred_sem_seg`` of shape (1, H, W).
        opacity (float): Weight of the colour mask, in (0, 1].
        with_labels (bool): Write class names on the segments.

    Returns:
        np.ndarray: The overlay, RGB, (H, W, 3) uint8.
    """
    visualizer = SegLocalVisualizer(
        name='mmseg_spml_image_demo', alpha=opacity
    )
    # Set afterwards: MMSeg 1.2.2's __init__ passes classes and palette to
    # set_dataset_meta in swapped order (show_result_pyplot does the same).
    visualizer.dataset_meta = dict(
        classes=list(model.dataset_meta['classes']),
        palette=[list(c) for c in model.dataset_meta['palette']],
    )
    visualizer.add_datasample(
        name='image_demo',
        image=image,
        data_sample=result,
        draw_gt=False,
        draw_pred=True,
        show=False,
        with_labels=with_labels,
    )
    return visualizer.get_image()


def image_extension(path: str) -> str:
    """The lower-case extension of an output image path.

    Raises:
        ValueError: If it is not one of :data:`IMAGE_EXTENSIONS`.
    """
    ext = osp.splitext(path)[1].lower()
    if ext not in IMAGE_EXTENSIONS:
        raise ValueError(
            f'{path}: unknown image extension {ext!r}; use one of '
            f'{", ".join(IMAGE_EXTENSIONS)}'
        )
    return ext
