# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Synthesise weak labels (points, scribbles, boxes, tags) from full masks.

Reads a data set in Pascal VOC layout (class PNGs, optional instance PNGs,
a split file) and writes, in the project's label encoding (class ids where
labelled, 254 = unlabelled):

* ``points`` / ``scribbles`` / ``boxes``: ``OUT/<name>.png`` per image;
* ``boxes`` also writes ``OUT/boxes.json``: ``{name: [[cls, x1, y1, x2,
  y2], ...]}``, 0-based inclusive pixel coordinates, the box list that
  ``tools/make_pseudo_masks.py --boxes`` reads (a label map cannot hold
  overlapping boxes);
* every type: ``OUT/tags.json``: ``{name: [class ids]}``, the image-level
  tags the annotation implies (the only output of ``tags``), written last.

Points and scribbles are disks of the paper's radii (6 and 3 pixels on
Pascal VOC's 500 x 375 images) scaled to each image's size, as a click or a
pen stroke covers a fixed part of the picture: ``round(r * sqrt(H * W /
(375 * 500)))``, at least 1 (2 and 1 on 128 x 128 images); ``--radius N``
uses N pixels on every image instead. Box label maps (``--box-labels``):
``unlabelled`` (254 inside every box, the converters' format), ``filled``
(each box filled with its class, smaller boxes on top) or ``prior`` (the
class in a core of 20% of the box area, after Simple Does It's "Box^i",
254 in the rest of the box); background outside the boxes in every mode.

Every file is written atomically; the result depends only on ``--seed``,
not on ``--nproc``.

Examples:
    # points as in the paper (radius 6 at VOC size, scaled) for the demo
    python tools/make_weak_labels.py ~/.cache/mmseg-spml/data/demo_scenes-* \
        --type points --out weak/points
    # boxes with a CAM-free prior: class in an ellipse core, 254 around
    python tools/make_weak_labels.py data/VOCdevkit/VOC2012 --type boxes \
        --box-labels prior --out data/VOCdevkit/VOC2012/boxes_prior
    # 30% scribbles (paper, table 7) on VOC with SBD-style instance maps
    python tools/make_weak_labels.py data/VOCdevkit/VOC2012 --type scribbles \
        --length-ratio 0.3 --out data/VOCdevkit/VOC2012/scribbles_30 --nproc 8
"""

import argparse
import os.path as osp
import sys
from functools import partial

from mmseg_spml.datasets.box_labels import BOX_CORES, BOX_LABEL_MODES
from mmseg_spml.datasets.weak_label_files import write_weak_label_file
from mmseg_spml.datasets.weak_synthesis import WEAK_TYPES
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import read_split, save_json
from mmseg_spml.utils.parallel import map_with_progress


def parse_args(argv=None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('data_root', help='data set folder (VOC layout)')
    parser.add_argument('--type', choices=WEAK_TYPES, required=True)
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--split',
        default='ImageSets/Segmentation/train.txt',
        help='split file relative to data_root (one image stem per line)',
    )
    parser.add_argument(
        '--seg-dir',
        default='SegmentationClass',
        help='class PNGs relative to data_root',
    )
    parser.add_argument(
        '--inst-dir',
        default='SegmentationObject',
        help='instance PNGs relative to data_root; regions are connected '
        'components of each class if the folder does not exist',
    )
    parser.add_argument(
        '--num-classes',
        type=int,
        default=None,
        help='class ids >= this are not tags (default: all but 254/255)',
    )
    parser.add_argument(
        '--radius',
        type=int,
        default=None,
        help='dilation radius of points/scribbles in pixels, the same on '
        "every image (default: the paper's 6 for points and 3 for scribbles "
        'on 500x375 VOC images, scaled to each image by sqrt(H*W / '
        '(375*500)), at least 1)',
    )
    parser.add_argument(
        '--length-ratio',
        type=float,
        default=1.0,
        help='fraction of each scribble kept, 0 (a point) to 1 (default)',
    )
    parser.add_argument(
        '--interior-ratio',
        type=float,
        default=1.0,
        help='points are drawn among pixels at least this fraction of the '
        'deepest distance from the border (1 = the centre, default)',
    )
    parser.add_argument(
        '--min-area',
        type=int,
        default=1,
        help='regions with fewer pixels get no annotation',
    )
    parser.add_argument(
        '--box-labels',
        choices=BOX_LABEL_MODES,
        default='unlabelled',
        help='boxes: label map inside the boxes: unlabelled (254, the '
        'default), filled (the box class, smaller boxes on top) or prior '
        '(the class in a core, 254 around it)',
    )
    parser.add_argument(
        '--box-core',
        choices=BOX_CORES,
        default='ellipse',
        help='boxes with --box-labels prior: core shape (default: ellipse)',
    )
    parser.add_argument(
        '--box-core-ratio',
        type=float,
        default=None,
        help='boxes with --box-labels prior: scale of the core about the '
        'box centre (default: the core covers 20%% of the box area)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    if args.type != 'boxes' and (
        args.box_labels != 'unlabelled'
        or args.box_core != 'ellipse'
        or args.box_core_ratio is not None
    ):
        parser.error(
            '--box-labels/--box-core/--box-core-ratio need --type boxes'
        )
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        names = read_split(osp.join(args.data_root, args.split))
    except FileNotFoundError as e:
        sys.exit(f'error: {e}')
    inst_dir = osp.join(args.data_root, args.inst_dir)
    box_options = dict(
        box_labels=args.box_labels,
        box_core=args.box_core,
        box_core_ratio=args.box_core_ratio,
    )
    worker = partial(
        write_weak_label_file,
        kind=args.type,
        seg_dir=osp.join(args.data_root, args.seg_dir),
        out_dir=args.out,
        inst_dir=inst_dir if osp.isdir(inst_dir) else None,
        seed=args.seed,
        num_classes=args.num_classes,
        radius=args.radius,
        length_ratio=args.length_ratio,
        interior_ratio=args.interior_ratio,
        min_area=args.min_area,
        **(box_options if args.type == 'boxes' else {}),
    )
    try:
        results = map_with_progress(worker, names, args.nproc)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    tags = {name: img_tags for name, img_tags, _ in results}
    boxes = {name: img_boxes for name, _, img_boxes in results}
    if args.type == 'boxes':
        save_json(osp.join(args.out, 'boxes.json'), boxes)
    save_json(osp.join(args.out, 'tags.json'), tags)  # last
    print(f'{args.type} for {len(names)} images written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
