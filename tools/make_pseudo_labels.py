# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Write SPML pseudo labels of the training set from a stage-1 model.

For every training image the stage-1 classifier's softmax is restricted to
the image's tags (the classes of its weak labels), each class divided by
its maximum, propagated by a random walk on the learned embedding affinity
(flip-averaged), upsampled, optionally refined by a dense CRF, and its
argmax written to ``OUT/<name>.png`` (annotated pixels keep their weak
label), with ``OUT/tags.json``; the folder is the ``weak_path`` of the
stage-2 classifier's training set (SPML appendix A.4).

The chain is configured by ``pseudo_label_cfg`` in the config (unknown keys
are an error; defaults, ``mmseg_spml.apis.PSEUDO_LABEL_DEFAULTS``,
below: the reference's random walk, no CRF):

    pseudo_label_cfg = dict(
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadWeakAnnotations'),
                  dict(type='PackWeakSegInputs')],
        restrict_to_tags=True,
        random_walk=dict(beta=100.0, num_squarings=6),  # None: no walk
        flip=True,
        crf=None,  # e.g. dict(num_iters=10, max_pixels=160 * 160)
        keep_weak_labels=True,
        cams=None,  # folder of CAM files: seeds from CAMs (tag setting)
        cam_bg_power=6.0,
        seed_model=None,  # (config, checkpoint): seeds from its softmax
        boxes=None)  # boxes.json: class c only inside c's boxes

With ``cams`` (or ``--cams``), the seeds of the random walk are the CAMs of
``tools/make_cams.py`` (background ``(1 - max CAM) ** cam_bg_power``), not
the stage-1 classifier: the reference's tag setting (``pseudo_camrw_crf``).
With ``seed_model`` (or ``--seed-model CONFIG CHECKPOINT``), they are the
softmax of another segmentor (e.g. the previous round's final model), still
propagated on the stage-1 embedding.
With ``boxes`` (or ``--boxes``), a ``boxes.json`` of the box annotations,
a pixel may take class c only inside a box of c and is background outside
every box (SPML's box setting).

Existing files are skipped, so an interrupted run resumes. With
``--launcher pytorch`` (torchrun) or ``slurm`` (srun), every process
labels its share.

Examples:
    python tools/make_pseudo_labels.py CONFIG work_dirs/stage1/iter_1000.pth \
        --out work_dirs/stage1/pseudo_labels
    python -m torch.distributed.run --nproc_per_node 8 \
        tools/make_pseudo_labels.py CONFIG CKPT --out DIR --launcher pytorch
"""

import argparse
import os
import os.path as osp
import sys

import torch
from mmengine import dist
from mmengine.utils import ProgressBar

import mmseg_spml  # noqa: F401
from mmseg_spml.apis import (
    PseudoLabeler,
    build_trained_model,
    image_tags_of,
    pseudo_label_settings,
    training_images,
)
from mmseg_spml.datasets.box_labels import load_boxes_file
from mmseg_spml.utils import adapt_cfg_to_device, close_dist, init_cpu_dist
from mmseg_spml.utils.cli import load_tool_config, trained_model_parser
from mmseg_spml.utils.io import label_palette, save_json, save_label_png


def parse_args(argv=None) -> argparse.Namespace:
    parser = trained_model_parser(
        __doc__, 'stage-1 SPML config', 'output folder'
    )
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm'], default='none'
    )
    parser.add_argument(
        '--crf',
        type=int,
        metavar='MAX_PIXELS',
        help='apply the dense CRF (reference settings) at up to MAX_PIXELS '
        "pixels, e.g. 4096, when the config's pseudo_label_cfg has none",
    )
    parser.add_argument(
        '--crf-backend',
        choices=('torch', 'pydensecrf', 'auto'),
        default='auto',
        help='CRF of --crf: the exact torch mean field, the permutohedral '
        'pydensecrf (optional package, ~100x faster: use the full image '
        'size as MAX_PIXELS) or auto (pydensecrf when installed)',
    )
    parser.add_argument(
        '--cams',
        metavar='DIR',
        help='seed the random walk with the CAM files in DIR '
        "(tools/make_cams.py) instead of the model's classifier",
    )
    parser.add_argument(
        '--seed-model',
        nargs=2,
        metavar=('CONFIG', 'CHECKPOINT'),
        help='seed the random walk with the softmax of this segmentor '
        "(any MMSeg model, e.g. the previous round's final model); the "
        "embedding stays the stage-1 model's",
    )
    parser.add_argument(
        '--boxes',
        metavar='FILE',
        help='boxes.json of the box annotations: class c only inside its '
        'boxes, background outside all boxes',
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_tool_config(args)
    cfg.launcher = args.launcher
    if args.launcher != 'none':
        adapt_cfg_to_device(cfg)
        if torch.cuda.is_available():
            dist.init_dist(args.launcher)
        else:
            init_cpu_dist(cfg)
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        plc = pseudo_label_settings(
            cfg.get('pseudo_label_cfg'),
            cams=args.cams,
            boxes=args.boxes,
            seed_model=args.seed_model,
        )
        if args.crf and plc['crf'] is None:
            plc['crf'] = dict(max_pixels=args.crf, backend=args.crf_backend)
        dataset = training_images(cfg, plc['pipeline'])
        model = build_trained_model(cfg, args.checkpoint, args.device)
        seed_model = None
        if plc['seed_model'] is not None:
            seed_model = build_trained_model(*plc['seed_model'], args.device)
        boxes = None
        if plc['boxes'] is not None:
            num_classes = model.decode_head.num_classes
            boxes = load_boxes_file(plc['boxes'], num_classes)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}')
        return 1
    try:
        labeler = PseudoLabeler(model, plc, seed_model, boxes)
    except ValueError as e:
        print(f'error: {args.config}: {e}')
        return 1
    palette = label_palette(dataset.metainfo.get('palette') or [[0, 0, 0]])
    tags = image_tags_of(dataset, labeler.num_classes)
    todo = [
        (idx, name)
        for idx, name in enumerate(tags)
        if idx % world == rank
        and not osp.exists(osp.join(args.out, name + '.png'))
    ]
    os.makedirs(args.out, exist_ok=True)
    if rank == 0:
        print(f'{len(dataset)} images; rank 0 writes {len(todo)} labels')
    bar = ProgressBar(len(todo)) if rank == 0 and todo else None
    for idx, name in todo:
        try:
            label = labeler(name, dataset[idx])
        except ValueError as e:
            print(f'error: {e}')
            return 1
        save_label_png(osp.join(args.out, name + '.png'), label, palette)
        if bar is not None:
            bar.update()
    dist.barrier()
    if rank == 0:
        save_json(osp.join(args.out, 'tags.json'), tags)
        print(f'\npseudo labels of {len(dataset)} images in {args.out}')
    close_dist()
    return 0


if __name__ == '__main__':
    sys.exit(main())
