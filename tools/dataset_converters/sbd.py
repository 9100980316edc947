# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Convert SBD ``.mat`` annotations to label PNGs (VOC layout).

Writes ``OUT_ROOT/SegmentationClassAug/<image>.png`` from ``cls/*.mat``
and, with ``--instances``, ``OUT_ROOT/SegmentationObjectAug/<image>.png``
from ``inst/*.mat`` (the instance maps ``tools/make_weak_labels.py`` uses
for boxes and per-object points), atomically. With ``--trainaug``, also
writes the standard 10,582-image ``ImageSets/Segmentation/trainaug.txt``
(SBD train + val + VOC train, minus VOC val) and ``aug.txt`` and copies the
VOC ``train`` masks missing from SBD into the ``*Aug`` folders, so that
``trainaug`` images all have their maps in one place.

Example:
    python tools/dataset_converters/sbd.py data/benchmark_RELEASE/dataset \
        data/VOCdevkit/VOC2012 --instances --trainaug --nproc 8
"""

import glob
import os
import os.path as osp
import shutil
import sys

from mmseg_spml.datasets.converters import VOC_LABEL_PALETTE, read_sbd_mat
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import read_split, save_label_png
from mmseg_spml.utils.parallel import map_with_progress


def convert(task: tuple) -> str:
    """``task`` is ``(mat path, key, out dir)``; returns the image name."""
    mat_path, key, out = task
    name = osp.splitext(osp.basename(mat_path))[0]
    save_label_png(
        osp.join(out, name + '.png'),
        read_sbd_mat(mat_path, key),
        VOC_LABEL_PALETTE,
    )
    return name


def write_trainaug(sbd_root: str, voc_root: str, instances: bool) -> int:
    """Write trainaug.txt/aug.txt and complete the *Aug folders with the
    VOC train masks; return the number of trainaug images."""
    sets = osp.join(voc_root, 'ImageSets', 'Segmentation')
    voc_train = read_split(osp.join(sets, 'train.txt'))
    voc_val = set(read_split(osp.join(sets, 'val.txt')))
    sbd = set(
        read_split(osp.join(sbd_root, 'train.txt'))
        + read_split(osp.join(sbd_root, 'val.txt'))
    )
    trainaug = sorted((sbd | set(voc_train)) - voc_val)
    folders = [('SegmentationClass', 'SegmentationClassAug')]
    if instances:
        folders.append(('SegmentationObject', 'SegmentationObjectAug'))
    for name in sorted(set(voc_train) - sbd):
        for src, dst in folders:
            source = osp.join(voc_root, src, name + '.png')
            if not osp.isfile(source):
                raise FileNotFoundError(
                    f'VOC train mask {source} does not exist'
                )
            target = osp.join(voc_root, dst, name + '.png')
            shutil.copyfile(source, target + '.tmp')
            os.replace(target + '.tmp', target)
    for list_name, names in (
        ('trainaug', trainaug),
        ('aug', sorted(set(trainaug) - set(voc_train))),
    ):
        path = osp.join(sets, list_name + '.txt')
        with open(path + '.tmp', 'w') as f:
            f.write(''.join(n + '\n' for n in names))
        os.replace(path + '.tmp', path)
    return len(trainaug)


def main(argv=None) -> int:
    parser = doc_parser(__doc__)
    parser.add_argument('sbd_root', help='SBD "dataset" folder (cls/, inst/)')
    parser.add_argument('out_root', help='VOC folder to write into')
    parser.add_argument('--instances', action='store_true')
    parser.add_argument('--trainaug', action='store_true')
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
    if args.trainaug:
        try:
            count = write_trainaug(
                args.sbd_root, args.out_root, args.instances
            )
        except FileNotFoundError as e:
            sys.exit(f'error: {e}')
        print(f'trainaug.txt lists {count} images')
    return 0


if __name__ == '__main__':
    sys.exit(main())
