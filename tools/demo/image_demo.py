# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Segment one image with a trained model and save the coloured overlay.

MMSegmentation's ``demo/image_demo.py`` for this plugin. The model is built
and its weights loaded by ``mmseg_spml.apis.build_trained_model``
(MMEngine's loader with ``torch.load(weights_only=True)`` and the package's
allow-list; a plain state dict loads too); class names come from the
checkpoint, else from the config's data set. The image goes through
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
import sys
from typing import List, Optional

import cv2
import mmcv
import torch
from mmengine.config import DictAction
from mmseg.apis import inference_model

import mmseg_spml  # noqa: F401  (registry, checkpoint allow-list)
from mmseg_spml.apis import (
    build_trained_model,
    draw_overlay,
    image_extension,
)
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import save_rgb_image


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
        print(f'error: --out {e}', file=sys.stderr)
        return 1
    try:
        model = build_trained_model(
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
