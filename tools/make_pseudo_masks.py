# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Turn CAMs (from tools/make_cams.py) into pseudo-label PNGs.

Reads ``CAM_DIR/<name>.npz`` (``cams`` (K, H, W) in [0, 1], ``keys`` (K, )
class ids) and writes ``OUT/<name>.png`` in the project's label encoding
(class ids, 254 = unlabelled) plus ``OUT/tags.json``, so the folder can be
the ``weak_path`` of a WeakSegDataset (SPML's semantic-annotation input)
or, with ``--unlabelled-as background``, the full-mask target of a plain
segmentation network. Methods for tag CAMs:

* ``band`` (default): the class of the highest CAM where it is at least
  ``--fg-threshold``, background where it is below ``--bg-threshold``,
  unlabelled in between (IRN's VOC values 0.30 / 0.05). The default
  because it leaves the uncertain band open for SPML to fill. With
  ``--crf IMG_DIR`` both seed maps are refined by IRN's dense CRF on the
  images, as IRN does;
* ``threshold``: SPML appendix A.2: background ``(1 - max CAM) ** alpha``;
  argmax; pixels whose best score is below ``--threshold`` (0.2) are
  unlabelled. With alpha 6 a pixel's best score is at least 0.222, so
  with threshold 0.2 no pixel is ever unlabelled: a full mask;
* ``cvs``: PMM's coefficient-of-variation smoothing, then ``threshold``;
* ``ppmg``: PMM's proportional pseudo-mask generation (per-class
  foreground ``cam > (1 - cam) ** ppmg_alpha``, the unary decision of PMM's
  2-label CRF; overlaps go to the class with the largest share of its
  activation mass); every pixel is labelled;
* ``cvs+ppmg``: both, as PMM.

Boxes (``--boxes DIR``, SPML appendix A.2): reads ``DIR/boxes.json``
(``{name: [[cls, x1, y1, x2, y2], ...]}``, 0-based inclusive, from
``tools/dataset_converters/voc_boxes.py`` or ``tools/make_weak_labels.py
--type boxes``); each box's CAM is min-max normalised over the box, boxes
of several classes go to the class with the highest normalised CAM, then
the ``threshold`` rule with ``--threshold`` 0.5 (default with ``--boxes``)
labels the pixels inside the boxes; everything outside the boxes is
background. Where ``DIR/<name>.png`` box maps exist they must agree with
``boxes.json`` (0 outside the boxes, 254 inside, 255 void, the CAMs'
size); their void pixels stay void.

Examples:
    python tools/make_pseudo_masks.py work_dirs/cam/cams \
        --out work_dirs/cam/pseudo_cvs_ppmg --method cvs+ppmg
    python tools/make_pseudo_masks.py work_dirs/cam/cams \
        --out work_dirs/cam/pseudo_band --fg-threshold 0.3 --bg-threshold 0.05
    python tools/make_pseudo_masks.py work_dirs/cam/cams \
        --out work_dirs/cam/pseudo_band_crf --crf data/VOC2012/JPEGImages
    python tools/make_pseudo_masks.py cams --boxes data/VOC2012/boxes \
        --out data/VOC2012/cam_boxes
"""

import argparse
import os.path as osp
import sys
from functools import partial

from mmseg_spml.datasets.box_labels import load_boxes_file
from mmseg_spml.pseudo_masks.cam_file_labels import (
    BOX_THRESHOLD,
    CAM_LABEL_METHODS,
    TAG_THRESHOLD,
    CamLabelRule,
    write_cam_file_labels,
)
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import image_names, save_json
from mmseg_spml.utils.parallel import map_with_progress


def parse_args(argv=None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('cam_dir', help='folder of <name>.npz CAM files')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--method',
        choices=CAM_LABEL_METHODS,
        default=None,
        help='labelling rule for tag CAMs (default: band; threshold is '
        "SPML's rule, which with alpha 6 and threshold 0.2 never leaves a "
        'pixel unlabelled). With --boxes only threshold applies (the '
        'default there)',
    )
    parser.add_argument(
        '--fg-threshold',
        type=float,
        default=0.30,
        help='band: CAMs at least this are foreground (IRN: 0.30)',
    )
    parser.add_argument(
        '--bg-threshold',
        type=float,
        default=0.05,
        help='band: CAMs below this are background (IRN: 0.05)',
    )
    parser.add_argument(
        '--crf',
        metavar='IMG_DIR',
        help="band: refine the seeds with IRN's dense CRF on the images "
        "IMG_DIR/<name><img-suffix> (of the CAMs' size)",
    )
    parser.add_argument('--img-suffix', default='.jpg')
    parser.add_argument(
        '--alpha',
        type=float,
        default=6.0,
        help='threshold/cvs/--boxes: power of the background score (SPML: 6)',
    )
    parser.add_argument(
        '--threshold',
        type=float,
        default=None,
        help='threshold/cvs/--boxes: pixels whose best score is lower are '
        f"unlabelled (default: SPML's {TAG_THRESHOLD} for tags, "
        f'{BOX_THRESHOLD} with --boxes)',
    )
    parser.add_argument('--cvs-threshold', type=float, default=0.05)
    parser.add_argument('--cvs-scale', type=float, default=0.3)
    parser.add_argument(
        '--ppmg-alpha',
        type=float,
        default=11.0,
        help='power of the background in the per-class foreground (PMM: 11)',
    )
    parser.add_argument(
        '--boxes',
        help='folder with boxes.json (and optionally the <name>.png box '
        'maps) of tools/dataset_converters/voc_boxes.py or '
        'make_weak_labels.py --type boxes: CAM-in-box labels',
    )
    parser.add_argument(
        '--unlabelled-as',
        choices=('unlabelled', 'background'),
        default='unlabelled',
        help='write low-confidence pixels as 254 (for SPML) or as '
        'background (a full-mask target for plain training)',
    )
    parser.add_argument(
        '--split', help='only the names of this split file (one per line)'
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    if args.boxes:
        if args.method not in (None, 'threshold'):
            sys.exit(
                'error: --boxes makes CAM-in-box labels with the threshold '
                'rule (SPML appendix A.2); it does not combine with --method '
                f'{args.method}'
            )
        args.method = 'threshold'
    elif args.method is None:
        args.method = 'band'
    if args.crf and args.method != 'band':
        sys.exit(
            f'error: --crf refines the band method only, not {args.method}'
        )
    if args.threshold is None:
        args.threshold = BOX_THRESHOLD if args.boxes else TAG_THRESHOLD
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        names = image_names(args.cam_dir, '.npz', args.split)
    except FileNotFoundError as e:
        sys.exit(f'error: {e}')
    if not names:
        sys.exit(f'error: no CAM files (*.npz) in {args.cam_dir}')
    rule = CamLabelRule(
        method=args.method,
        fg_threshold=args.fg_threshold,
        bg_threshold=args.bg_threshold,
        alpha=args.alpha,
        threshold=args.threshold,
        cvs_threshold=args.cvs_threshold,
        cvs_scale=args.cvs_scale,
        ppmg_alpha=args.ppmg_alpha,
        unlabelled_as_background=args.unlabelled_as == 'background',
        crf=bool(args.crf),
    )
    boxes = None
    if args.boxes:
        try:
            boxes = load_boxes_file(osp.join(args.boxes, 'boxes.json'))
        except (FileNotFoundError, ValueError) as e:
            sys.exit(f'error: {e}')
    try:
        results = map_with_progress(
            partial(
                write_cam_file_labels,
                cam_dir=args.cam_dir,
                out_dir=args.out,
                rule=rule,
                box_dir=args.boxes,
                boxes=boxes,
                img_dir=args.crf,
                img_suffix=args.img_suffix,
            ),
            names,
            args.nproc,
        )
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    save_json(osp.join(args.out, 'tags.json'), dict(results))
    kind = (
        'CAM-in-box' if args.boxes else args.method + ' + CRF' * bool(args.crf)
    )
    print(f'{kind} pseudo labels of {len(names)} images written to {args.out}')
    if not any(0 in tags for _, tags in results):
        print(
            'warning: no image got a background label: the CAMs are high '
            'everywhere (an undertrained CAM classifier?); a segmenter '
            'trained on these labels cannot learn background',
            file=sys.stderr,
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
