# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Write class activation maps (CAMs) of a trained CAMClassifier.

For every image of the config's training set (or ``--split``), the CAMs are
averaged over the views of the model's ``test_cfg`` (``scales``, default
IRN's VOC scales, and ``flip``, default True; the views its validation
scores), or ``--scales`` and ``--no-flip``, at the image's own size,
restricted to the image's foreground tags and divided by each class's
maximum, and written to ``OUT/<name>.npz`` (compressed) with

* ``cams``: float16 (K, H, W) in [0, 1], one map per foreground tag;
* ``keys``: int64 (K, ) their class ids.

Files are written atomically and existing ones are skipped, so an
interrupted run resumes where it stopped. Turn the CAMs into pseudo labels
with ``tools/make_pseudo_masks.py``.

Examples:
    python tools/make_cams.py \
        configs/pmm/cam_efflite0-d16_1xb8-500_demo-scenes-tags-128x128.py \
        work_dirs/cam/iter_500.pth --out work_dirs/cam/cams
    python tools/make_cams.py CONFIG CKPT --out cams --scales 1
"""

import argparse
import os
import os.path as osp
import sys

from mmengine.utils import ProgressBar

import mmseg_spml  # noqa: F401
from mmseg_spml.apis import (
    build_trained_model,
    cam_test_cfg_of,
    image_cams,
    training_images,
)
from mmseg_spml.pseudo_masks import save_cam_file
from mmseg_spml.utils.cli import load_tool_config, trained_model_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = trained_model_parser(
        __doc__, 'config of the CAMClassifier', 'output folder'
    )
    parser.add_argument(
        '--scales',
        type=float,
        nargs='+',
        help="image scales whose CAMs are averaged (default: the model's "
        "test_cfg.scales, else IRN's and PMM's VOC scales 1, 0.5, 1.5 and "
        "2: up-scaled views give CAMs finer than the backbone's output "
        'stride)',
    )
    parser.add_argument(
        '--no-flip',
        action='store_true',
        help="no horizontal flips (default: the model's test_cfg.flip, "
        'else flips)',
    )
    parser.add_argument(
        '--split',
        help='split file (one name per line) instead of the ann_file of '
        "the config's training set",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_tool_config(args)
    if cfg.model.get('type') != 'CAMClassifier':
        print(
            f'error: {args.config} builds a {cfg.model.get("type")}, '
            'not a CAMClassifier'
        )
        return 1
    try:
        views = cam_test_cfg_of(cfg)
    except ValueError as e:
        print(f'error: {args.config}: {e}')
        return 1
    if args.split:
        cfg.train_dataloader.dataset.ann_file = osp.abspath(args.split)
    dataset = training_images(
        cfg,
        cfg.get(
            'cam_pipeline',
            [dict(type='LoadImageFromFile'), dict(type='PackWeakSegInputs')],
        ),
    )
    model = build_trained_model(cfg, args.checkpoint, args.device)
    os.makedirs(args.out, exist_ok=True)
    todo = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        name = osp.splitext(osp.basename(info['img_path']))[0]
        out = osp.join(args.out, name + '.npz')
        if not osp.exists(out):
            todo.append((idx, out))
    print(
        f'{len(dataset) - len(todo)} of {len(dataset)} CAM files exist; '
        f'writing {len(todo)} to {args.out}'
    )
    bar = ProgressBar(len(todo)) if todo else None
    for idx, out in todo:
        try:
            cams, keys = image_cams(
                model,
                dataset[idx],
                args.scales or views['scales'],
                views['flip'] and not args.no_flip,
            )
        except ValueError as e:
            print(f'error: {e}')
            return 1
        save_cam_file(out, cams, keys)
        bar.update()
    if bar is not None:
        print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
