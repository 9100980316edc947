# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Draw SPML's visual diagnostics of a trained model, one PNG per image.

For each of the first ``--num-images`` images of the config's training
(or validation) set, writes ``OUT/<image>.png``: a strip of the image |
embedding PCA colours | k-means segments | superpixels | label |
prediction (``mmseg_spml.engine.visualization.diagnostic_panel``). On the
training split, the images are read with the loading steps of the
training pipeline only (no random resize, crop or flip), the label is the
weak (or pseudo) label and the segments are those of the SegSort loss
(clusters ∩ label ∩ superpixels); on the validation split, the config's
validation pipeline is used, the label is the ground truth and the
segments are the k-means clusters alone. Files are written atomically.

Examples:
    CONFIG=configs/spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py
    python tools/analysis_tools/visualize_spml.py $CONFIG \
        work_dirs/spml_demo/iter_1000.pth --out work_dirs/spml_demo/vis
    python tools/analysis_tools/visualize_spml.py CONFIG CKPT --out vis \
        --split val --num-images 20 --grid 8 8
"""

import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS

import mmseg_spml  # noqa: F401  (registers the models and transforms)
from mmseg_spml.apis import build_trained_model
from mmseg_spml.engine.visualization import (
    check_spml_segmentor,
    render_diagnostics,
    resolve_palette,
    spml_diagnostics,
)
from mmseg_spml.utils.cli import load_tool_config, trained_model_parser
from mmseg_spml.utils.io import save_rgb_image

#: Training pipeline steps kept by ``--split train``: deterministic ones.
KEPT_STEPS = ('ComputeSuperpixels', 'Resize', 'PadExtraSegFields')


def parse_args(argv=None) -> argparse.Namespace:
    parser = trained_model_parser(__doc__, 'SPML config', 'output folder')
    parser.add_argument(
        '--num-images', type=int, default=10, help='images drawn'
    )
    parser.add_argument('--split', choices=('train', 'val'), default='train')
    parser.add_argument(
        '--grid',
        type=int,
        nargs=2,
        default=None,
        help="k-means grid (default: the SegSort loss's)",
    )
    parser.add_argument('--iters', type=int, default=None)
    parser.add_argument(
        '--segment-style',
        choices=('colours', 'boundaries'),
        default='colours',
    )
    parser.add_argument('--alpha', type=float, default=0.5)
    return parser.parse_args(argv)


def deterministic_pipeline(pipeline: list) -> list:
    """The loading steps (``Load*``), superpixels and fixed resizing of a
    training pipeline, packed with ``PackWeakSegInputs``."""
    steps = [
        dict(step)
        for step in pipeline
        if str(step['type']).startswith('Load') or step['type'] in KEPT_STEPS
    ]
    return steps + [dict(type='PackWeakSegInputs')]


def build_images(cfg: Config, split: str):
    """The dataset of ``split`` to draw."""
    if split == 'train':
        dataset_cfg = cfg.train_dataloader.dataset.copy()
        dataset_cfg.pipeline = deterministic_pipeline(dataset_cfg.pipeline)
    else:
        dataset_cfg = cfg.val_dataloader.dataset.copy()
    return DATASETS.build(dataset_cfg)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.num_images < 1:
        print(f'error: --num-images must be >= 1, got {args.num_images}')
        return 1
    cfg = load_tool_config(args)
    model = build_trained_model(cfg, args.checkpoint, args.device)
    try:
        check_spml_segmentor(model)
    except TypeError as err:
        print(f'error: {args.config}: {err}')
        return 1
    dataset = build_images(cfg, args.split)
    num = min(args.num_images, len(dataset))
    os.makedirs(args.out, exist_ok=True)
    num_classes = model.decode_head.num_classes
    bar = ProgressBar(num)
    for idx in range(num):
        data = dataset[idx]
        sample = data['data_samples']
        (diag,) = spml_diagnostics(
            model,
            dict(inputs=[data['inputs']], data_samples=[sample]),
            intersect=args.split == 'train',
            kmeans_grid=args.grid,
            kmeans_iters=args.iters,
        )
        palette = resolve_palette(
            num_classes,
            sample.metainfo,
            dataset.metainfo,
            getattr(model, 'dataset_meta', None),
        )
        strip = render_diagnostics(
            diag,
            palette,
            alpha=args.alpha,
            segment_style=args.segment_style,
        )
        name = osp.splitext(osp.basename(sample.img_path))[0]
        save_rgb_image(osp.join(args.out, name + '.png'), strip)
        bar.update()
    print(f'\n{num} {args.split} images drawn into {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
