# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Convert SBD ``.mat`` annotations to label PNGs (VOC layout).

Writes ``OUT_ROOT/SegmentationClassAug/<image>.png`` from ``cls/*.mat``
and, with ``--instances``, ``OUT_ROOT/SegmentationObjectAug/<image>.png``
from ``inst/*.mat`` (the instance maps ``tools/make_weak_labels.py`` uses
for boxes and per-object points), atomically.

Example:
    python tools/dataset_converters/sbd.py data/benchmark_RELEASE/dataset \
        data/VOCdevkit/VOC2012 --instances --nproc 8
"""

import argparse
import glob
import os.path as osp
import sys

from mmseg.datasets import PascalVOCDataset

from mmseg_spml.datasets.converters import read_sbd_mat
from mmseg_spml.utils.io import label_palette, save_label_png
from mmseg_spml.utils.parallel import map_with_progress


def convert(task: tuple) -> str:
    """``task`` is ``(mat path, key, out dir)``; returns the image name."""
    mat_path, key, out = task
    name = osp.splitext(osp.basename(mat_path))[0]
    save_label_png(
        osp.join(out, name + '.png'),
        read_sbd_mat(mat_path, key),
        label_palette(PascalVOCDataset.METAINFO['palette']),
    )
    return name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]),
    )
    parser.add_argument('sbd_root', help='SBD "dataset" folder (cls/, inst/)')
    parser.add_argument('out_root', help='VOC folder to write into')
    parser.add_argument('--instances', action='store_true')
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    jobs = [('cls', 'GTcls', 'SegmentationClassAug')]
    if args.instances:
        jobs.append(('inst', 'GTinst', 'SegmentationObjectAug'))
    for sub, key, out_dir in jobs:
        files = sorted(glob.glob(osp.join(args.sbd_root, sub, '*.mat')))
        if not files:
            sys.exit(f'error: no .mat files in {osp.join(args.sbd_root, sub)}')
        out = osp.join(args.out_root, out_dir)
        try:
            names = map_with_progress(
                convert, [(f, key, out) for f in files], args.nproc
            )
        except ValueError as e:
            sys.exit(f'error: {e}')
        print(f'{len(names)} {key} maps written to {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
