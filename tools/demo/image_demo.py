# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Segment one image with a trained model and save the coloured overlay.

MMSegmentation's ``demo/image_demo.py`` for this plugin. The model is built
by ``mmseg.apis.init_model`` and its weights loaded by MMEngine
(``mmseg_spml`` is imported first: its components are registered and
checkpoints load with ``torch.load(weights_only=True)``); class names come
from the checkpoint, else from the config's data set. The image goes through
``mmseg.apis.inference_model`` (the config's ``test_pipeline`` without its
annotation loading) and MMSeg's ``SegLocalVisualizer`` draws the overlay,
of the image's size, written atomically. Works for the SPML segmentor
(``SPMLEncoderDecoder``: classifier, stage-2 or KNN prediction) and for
plain MMSeg models.

Examples:
    CFG=configs/spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py
    python tools/demo/image_demo.py demo.jpg $CFG \
        work_dirs/spml/iter_1000.pth --out overlay.png --device cpu
    # KNN prediction with a memory from tools/build_knn_memory.py:
    python tools/demo/image_demo.py demo.jpg CONFIG CKPT --out knn.png \
        --cfg-options model.knn.memory=memory.pth model.knn.k=20
"""

import argparse
import os.path as osp
import pickle
import sys
import warnings
from typing import List, Optional

import cv2
import mmcv
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.model import revert_sync_batchnorm
from mmengine.runner import load_checkpoint
from mmseg.apis import inference_model, init_model
from mmseg.registry import DATASETS
from mmseg.visualization import SegLocalVisualizer

import mmseg_spml  # noqa: F401  (registry, checkpoint allow-list)
from mmseg_spml.engine.visualization import default_palette
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import save_rgb_image

#: Extensions OpenCV can encode the overlay to.
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def _matching(meta: Optional[dict], num_classes: Optional[int]) -> bool:
    """Whether ``meta`` has classes and palette for ``num_classes``."""
    if not meta or not meta.get('classes') or not meta.get('palette'):
        return False
    n = len(meta['classes'])
    return n == len(meta['palette']) and num_classes in (None, n)


def resolve_dataset_meta(
    model: torch.nn.Module, checkpoint_meta: dict, cfg: Config
) -> dict:
    """Class names and palette to draw ``model``'s predictions with.

    In order: the checkpoint's ``dataset_meta`` (written by the MMEngine
    Runner); its ``CLASSES``/``PALETTE`` (MMSeg 0.x); the ``METAINFO`` of
    the config's test (or val) data set class; generic names ``class0`` ...
    with a fixed random palette. Unlike ``init_model``'s fallback, a data
    set is never guessed from the number of classes alone (7 classes would
    be drawn with LoveDA's names).

    Args:
        model (nn.Module): The segmentor; ``decode_head.num_classes`` is
            checked against the names found.
        checkpoint_meta (dict): The checkpoint's ``meta`` (may be empty).
        cfg (Config): The model's config.

    Returns:
        dict: ``classes`` (list of str) and ``palette`` (list of RGB
        triples), of the decode head's length.
    """
    num_classes = getattr(model.decode_head, 'num_classes', None)
    candidates = [checkpoint_meta.get('dataset_meta')]
    if 'CLASSES' in checkpoint_meta:
        candidates.append(
            dict(
                classes=checkpoint_meta['CLASSES'],
                palette=checkpoint_meta.get('PALETTE'),
            )
        )
    for split in ('test_dataloader', 'val_dataloader'):
        dataset_type = cfg.get(split, {}).get('dataset', {}).get('type')
        if isinstance(dataset_type, str) and DATASETS.get(dataset_type):
            dataset_cls = DATASETS.get(dataset_type)
            candidates.append(getattr(dataset_cls, 'METAINFO', None))
    for meta in candidates:
        if _matching(meta, num_classes):
            return dict(
                classes=list(meta['classes']),
                palette=[list(c) for c in meta['palette']],
            )
    if num_classes is None:
        raise ValueError(
            'neither the checkpoint nor the config name the classes, and '
            'the decode head has no num_classes'
        )
    warnings.warn(
        "neither the checkpoint nor the config name the decode head's "
        f'{num_classes} classes; drawing class0..class{num_classes - 1}',
        stacklevel=2,
    )
    return dict(
        classes=[f'class{i}' for i in range(num_classes)],
        palette=default_palette(num_classes),
    )


def build_model(
    config: str,
    checkpoint: str,
    device: str,
    cfg_options: Optional[dict] = None,
) -> torch.nn.Module:
    """``mmseg.apis.init_model`` with the checkpoint loaded by MMEngine.

    ``init_model(config, checkpoint)`` fails on a plain state dict (it reads
    ``checkpoint['meta']``) and guesses class names from their number when
    the checkpoint has none; here the model is built by ``init_model``, the
    weights are loaded with ``mmengine.runner.load_checkpoint`` (what
    ``init_model`` calls) and the class names come from
    :func:`resolve_dataset_meta`. SyncBN layers become plain BN, which
    computes the same in inference and needs no process group.

    Args:
        config (str): Config file.
        checkpoint (str): MMEngine checkpoint or plain state dict.
        device (str): E.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options (dict, optional): Config overrides.

    Returns:
        nn.Module: The segmentor in eval mode, with ``dataset_meta``.

    Raises:
        ValueError: If ``checkpoint`` cannot be read as a checkpoint.
    """
    model = init_model(config, None, device, cfg_options)
    try:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
    except (RuntimeError, KeyError, EOFError, pickle.UnpicklingError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ''
        raise ValueError(
            'not a checkpoint that torch.load(weights_only=True) can read '
            f'({type(e).__name__}: {reason})'
        ) from e
    meta = ckpt.get('meta') or {}
    model.dataset_meta = resolve_dataset_meta(model, meta, model.cfg)
    return revert_sync_batchnorm(model).eval()


def draw_overlay(
    model: torch.nn.Module,
    image: np.ndarray,
    result,
    opacity: float = 0.5,
    with_labels: bool = False,
) -> np.ndarray:
    """Blend the predicted segmentation over the image.

    Args:
        model (nn.Module): The segmentor, for ``dataset_meta``.
        image (np.ndarray): The input image, RGB, (H, W, 3) uint8.
        result (SegDataSample): ``inference_model``'s output, with
            ``pred_sem_seg`` of shape (1, H, W).
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
            f'--out {path}: unknown image extension {ext!r}; use one of '
            f'{", ".join(IMAGE_EXTENSIONS)}'
        )
    return ext


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', required=True, help='overlay image to write (.png, .jpg)'
    )
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='device for inference (default: cuda:0 if available, else cpu)',
    )
    parser.add_argument(
        '--opacity',
        type=float,
        default=0.5,
        help='opacity of the colour mask, in (0, 1] (default: 0.5)',
    )
    parser.add_argument(
        '--with-labels',
        action='store_true',
        help='write class names on the segments',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.knn.memory=memory.pth',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    for what, path in (
        ('image', args.img),
        ('config', args.config),
        ('checkpoint', args.checkpoint),
    ):
        if not osp.isfile(path):
            print(f'error: {what} {path} does not exist', file=sys.stderr)
            return 1
    if not 0 < args.opacity <= 1:
        print(
            f'error: --opacity must be in (0, 1], got {args.opacity}',
            file=sys.stderr,
        )
        return 1
    try:
        image = mmcv.imread(args.img, channel_order='rgb')
    except (cv2.error, OSError, ValueError):
        image = None
    if image is None:
        print(f'error: image {args.img} could not be decoded', file=sys.stderr)
        return 1
    try:
        image_extension(args.out)  # fail before the model is loaded
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    try:
        model = build_model(
            args.config, args.checkpoint, args.device, args.cfg_options
        )
    except ValueError as e:
        print(f'error: {args.checkpoint}: {e}', file=sys.stderr)
        return 1
    with torch.no_grad():
        result = inference_model(model, args.img)
    overlay = draw_overlay(
        model, image, result, args.opacity, args.with_labels
    )
    save_rgb_image(args.out, overlay)
    print(
        f'overlay of {args.img} ({overlay.shape[1]}x{overlay.shape[0]}) '
        f'written to {args.out}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
