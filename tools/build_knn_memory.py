# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Build the segment memory of SPML's KNN prediction from training images.

Every training image is embedded by the SPML model, clustered (spherical
k-means on ``[embedding; xy]``, grid ``--grid``), and each cluster's
prototype is labelled with the majority of its pixels' *weak or pseudo*
labels (the training set's ``weak_path``: the full masks are never read;
the reference code's evaluation builds its memory from them, which is not
weakly supervised). Clusters without a labelled pixel are kept as
unlabelled (they never vote). The memory is written atomically to
``--out`` and used with ``model=dict(knn=dict(memory=OUT, k=20))``.

Examples:
    python tools/build_knn_memory.py CONFIG work_dirs/stage1/iter_1000.pth \
        --out work_dirs/stage1/memory.pth --grid 12 12
    # from pseudo labels instead of the config's weak labels:
    python tools/build_knn_memory.py CONFIG CKPT --out memory.pth \
        --cfg-options train_dataloader.dataset.data_prefix.weak_path=PSEUDO
"""

import argparse
import sys

import torch
from mmengine.utils import ProgressBar

import mmseg_spml  # noqa: F401
from mmseg_spml.apis import build_trained_model, image_memory, training_images
from mmseg_spml.refinement import save_memory
from mmseg_spml.utils.cli import load_tool_config, trained_model_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = trained_model_parser(__doc__, 'SPML config', 'memory file (.pth)')
    parser.add_argument(
        '--grid',
        type=int,
        nargs=2,
        default=[12, 12],
        help='k-means grid per image (reference: 12 12 at 512 px)',
    )
    parser.add_argument('--iters', type=int, default=10)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_tool_config(args)
    dataset = training_images(
        cfg,
        [
            dict(type='LoadImageFromFile'),
            dict(type='LoadWeakAnnotations'),
            dict(type='PackWeakSegInputs'),
        ],
    )
    if not dataset.data_prefix.get('weak_path'):
        print(
            'error: the memory is built from weak or pseudo labels, but the '
            "training set has no data_prefix['weak_path']"
        )
        return 1
    model = build_trained_model(cfg, args.checkpoint, args.device)
    if not hasattr(model.decode_head, 'embed'):
        print(f'error: {args.config} has no SPML decode head (embed())')
        return 1
    num_classes = model.decode_head.num_classes
    protos, labels = [], []
    bar = ProgressBar(len(dataset))
    for idx in range(len(dataset)):
        p, lab = image_memory(model, dataset[idx], args.grid, args.iters)
        protos.append(p)
        labels.append(lab)
        bar.update()
    protos, labels = torch.cat(protos), torch.cat(labels)
    meta = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        labels=str(dataset.data_prefix['weak_path']),
        num_images=len(dataset),
        grid=list(args.grid),
        num_classes=num_classes,
    )
    save_memory(args.out, protos, labels, meta)
    labelled = int((labels < num_classes).sum())
    print(
        f'\n{len(labels)} prototypes of {len(dataset)} images '
        f'({labelled} labelled) written to {args.out}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
