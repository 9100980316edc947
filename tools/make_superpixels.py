# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Compute the superpixels of a data set once, as region PNGs that
``LoadSuperpixels`` reads (``data_prefix['superpixel_path']``).

``--method felzenszwalb`` or ``slic`` over-segments each image with
scikit-image (``--param scale=100 min_size=20`` ...); ``--method ucm``
cuts ultrametric contour maps, e.g. HED + owt-ucm as in the paper, at
``--threshold`` (``--ucm-dir``: one uint8 contour PNG per image). Writes
``OUT/<image>.png`` (16-bit region ids, atomically) and ``OUT/params.json``
(the method, its parameters and the regions per image). Then replace
``ComputeSuperpixels`` by ``LoadSuperpixels`` in the training pipeline and
set ``data_prefix['superpixel_path']`` to OUT: the data workers no longer
recompute them at every iteration.

Example:
    python tools/make_superpixels.py data/VOCdevkit/VOC2012 \
        --split ImageSets/Segmentation/trainaug.txt \
        --out data/VOCdevkit/VOC2012/superpixels --nproc 8
"""

import os.path as osp
import sys

import cv2
import numpy as np
from mmengine.config import DictAction

from mmseg_spml.datasets.superpixels import (
    SUPERPIXEL_METHODS,
    compute_superpixels,
    regions_from_ucm,
    save_superpixels,
    superpixel_params,
)
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import read_split, save_json
from mmseg_spml.utils.parallel import map_with_progress


def segment(task: tuple) -> int:
    """Write one image's regions; ``task`` is ``(name, image path, out
    dir, method, params)``. Returns the number of regions."""
    name, path, out, method, params = task
    if method == 'ucm':
        ucm = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if ucm is None or ucm.ndim != 2:
            raise ValueError(f'{path}: expected a single-channel UCM PNG')
        regions = regions_from_ucm(ucm, params['threshold'])
    else:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f'{path}: image cannot be read')
        regions = compute_superpixels(bgr[..., ::-1].copy(), method, **params)
    save_superpixels(osp.join(out, name + '.png'), regions)
    return int(regions.max()) + 1


def main(argv=None) -> int:
    parser = doc_parser(__doc__)
    parser.add_argument('data_root', help='data folder (JPEGImages/...)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--split',
        default='ImageSets/Segmentation/train.txt',
        help='split file relative to data_root',
    )
    parser.add_argument('--img-dir', default='JPEGImages')
    parser.add_argument(
        '--method',
        default='felzenszwalb',
        choices=(*SUPERPIXEL_METHODS, 'ucm'),
    )
    parser.add_argument(
        '--param',
        nargs='+',
        action=DictAction,
        default={},
        help='scikit-image arguments, e.g. scale=100 min_size=20',
    )
    parser.add_argument(
        '--ucm-dir', help='--method ucm: folder of contour PNGs'
    )
    parser.add_argument(
        '--threshold',
        type=float,
        default=0.5,
        help='--method ucm: contour strength cut in (0, 1] (default 0.5, '
        "about the paper's VOC regions)",
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    if args.method == 'ucm':
        if not args.ucm_dir:
            parser.error('--method ucm needs --ucm-dir')
        if not 0 < args.threshold <= 1:
            parser.error(
                f'--threshold must be in (0, 1], got {args.threshold}'
            )
        params, folder, suffix = (
            dict(threshold=args.threshold),
            args.ucm_dir,
            '.png',
        )
    else:
        params = superpixel_params(args.method, **args.param)
        folder, suffix = osp.join(args.data_root, args.img_dir), '.jpg'
    try:
        names = read_split(osp.join(args.data_root, args.split))
        tasks = [
            (n, osp.join(folder, n + suffix), args.out, args.method, params)
            for n in names
        ]
        missing = [t[1] for t in tasks if not osp.isfile(t[1])]
        if missing:
            raise ValueError(
                f'{len(missing)} input files do not exist, e.g. {missing[0]}'
            )
        counts = map_with_progress(segment, tasks, args.nproc)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    stats = dict(
        median=float(np.median(counts)), min=min(counts), max=max(counts)
    )
    save_json(
        osp.join(args.out, 'params.json'),
        dict(method=args.method, params=params, regions=stats),
    )
    print(
        f'{len(counts)} region maps written to {args.out}; regions per '
        f'image: median {stats["median"]:.0f} (min {stats["min"]}, '
        f'max {stats["max"]})'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
