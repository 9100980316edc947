# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Turn CAMs (from tools/make_cams.py) into pseudo-label PNGs.

Reads ``CAM_DIR/<name>.npz`` (``cams`` (K, H, W) in [0, 1], ``keys`` (K, )
class ids) and writes ``OUT/<name>.png`` in the project's label encoding
(class ids, 254 = unlabelled) plus ``OUT/tags.json``, so the folder can be
the ``weak_path`` of a WeakSegDataset (SPML's semantic-annotation input)
or, with ``--unlabelled-as background``, the full-mask target of a plain
segmentation network. Methods:

* ``threshold``: background ``(1 - max CAM) ** alpha``; argmax; pixels
  whose best score is below ``--threshold`` are unlabelled (SPML appendix
  A.2: alpha 6, threshold 0.2 for tags). With ``--boxes``, CAMs are
  min-max normalised inside each box region, everything outside the
  boxes is background (SPML: threshold 0.5 for boxes);
* ``cvs``: PMM's coefficient-of-variation smoothing, then ``threshold``;
* ``ppmg``: PMM's proportional pseudo-mask generation (per-class
  foreground ``cam > (1 - cam) ** ppmg_alpha``, the unary decision of PMM's
  2-label CRF; overlaps go to the class with the largest share of its
  activation mass); every pixel is labelled;
* ``cvs+ppmg``: both, as PMM.

Examples:
    python tools/make_pseudo_masks.py work_dirs/cam/cams \
        --out work_dirs/cam/pseudo_cvs_ppmg --method cvs+ppmg
    python tools/make_pseudo_masks.py cams --boxes data/VOC2012/boxes \
        --threshold 0.5 --out data/VOC2012/cam_boxes
"""

import argparse
import glob
import os.path as osp
import sys
from functools import partial
from typing import List, Tuple

import numpy as np
import torch
from PIL import Image

from mmseg_spml.datasets.constants import UNLABELLED
from mmseg_spml.datasets.converters import VOC_LABEL_PALETTE
from mmseg_spml.pseudo_masks import (
    cams_to_labels,
    normalize_cams_in_boxes,
    pmm_pseudo_labels,
)
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import read_split, save_json, save_label_png
from mmseg_spml.utils.parallel import map_with_progress

METHODS = ('threshold', 'cvs', 'ppmg', 'cvs+ppmg')


def parse_args(argv=None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('cam_dir', help='folder of <name>.npz CAM files')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--method', choices=METHODS, default='threshold')
    parser.add_argument(
        '--alpha',
        type=float,
        default=6.0,
        help='power of the background score (SPML: 6)',
    )
    parser.add_argument(
        '--threshold',
        type=float,
        default=0.2,
        help='pixels whose best score is lower are unlabelled (SPML: 0.2 '
        'for tags, 0.5 for boxes)',
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
        help='folder of box label PNGs (<name>.png: class inside boxes, 0 '
        'outside): box-wise CAMs, threshold method only',
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
    return parser.parse_args(argv)


def load_cams(path: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """(K, H, W) float32 CAMs and (K, ) long keys of a CAM file."""
    try:
        with np.load(path) as data:
            cams, keys = data['cams'], data['keys']
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(
            f'{path} is not a CAM file with "cams" and "keys": {e}'
        ) from e
    return torch.from_numpy(cams.astype(np.float32)), torch.from_numpy(
        keys.astype(np.int64)
    )


def process(name: str, args: argparse.Namespace) -> Tuple[str, List[int]]:
    """Write the pseudo label of one image; return its name and tags."""
    cams, keys = load_cams(osp.join(args.cam_dir, name + '.npz'))
    if args.boxes:
        box_path = osp.join(args.boxes, name + '.png')
        if not osp.isfile(box_path):
            raise FileNotFoundError(f'box map {box_path} does not exist')
        box_map = torch.from_numpy(np.array(Image.open(box_path))).long()
        if box_map.shape != cams.shape[1:]:
            raise ValueError(
                f'box map {box_path} has shape {tuple(box_map.shape)} but '
                f'the CAMs of {name} have {tuple(cams.shape[1:])}'
            )
        cams = normalize_cams_in_boxes(cams, keys, box_map)
        label = cams_to_labels(
            cams, keys, args.alpha, args.threshold, box_map=box_map
        )
    else:
        label = pmm_pseudo_labels(
            cams,
            keys,
            use_cvs=args.method.startswith('cvs'),
            use_ppmg=args.method.endswith('ppmg'),
            alpha=args.alpha,
            threshold=args.threshold,
            cvs_threshold=args.cvs_threshold,
            cvs_scale=args.cvs_scale,
            ppmg_alpha=args.ppmg_alpha,
        )
    label = label.numpy().astype(np.uint8)
    if args.unlabelled_as == 'background':
        label[label == UNLABELLED] = 0
    save_label_png(osp.join(args.out, name + '.png'), label, VOC_LABEL_PALETTE)
    present = set(np.unique(label).tolist())
    return name, sorted(({0} & present) | set(keys.tolist()))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.boxes and args.method != 'threshold':
        sys.exit('error: --boxes works with --method threshold only')
    if args.split:
        try:
            names = read_split(args.split)
        except FileNotFoundError as e:
            sys.exit(f'error: {e}')
    else:
        names = sorted(
            osp.splitext(osp.basename(p))[0]
            for p in glob.glob(osp.join(args.cam_dir, '*.npz'))
        )
    if not names:
        sys.exit(f'error: no CAM files (*.npz) in {args.cam_dir}')
    try:
        results = map_with_progress(
            partial(process, args=args), names, args.nproc
        )
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    save_json(osp.join(args.out, 'tags.json'), dict(results))
    print(
        f'{args.method} pseudo labels of {len(names)} images written to '
        f'{args.out}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
