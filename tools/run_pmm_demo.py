# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Run PMM's pseudo-mask pipeline on the demo data (`make demo-pmm`).

1. trains the CAM classifier from image tags;
2. writes the CAMs of the training images (multi-scale + flip);
3. turns them into pseudo masks five ways (IRN's confidence band, SPML's
   threshold, CVS, PPMG, CVS+PPMG) and scores each against the full masks
   of the training images;
4. trains DeepLabV3 on the CVS+PPMG masks with plain cross-entropy and with
   PUF, and evaluates both on the val split.

Every step skips what a previous run finished (delete the work dir to start
over). The tables are printed and written to
``<work-dir>/pmm_demo_results.md``.

Example:
    python tools/run_pmm_demo.py --work-dir work_dirs/pmm_demo
"""

import argparse
import os
import os.path as osp
import sys
from typing import List

from mmseg_spml.datasets.demo_scenes import demo_data_root
from mmseg_spml.pseudo_masks.evaluation import (
    class_names_of,
    score_label_folder,
)
from mmseg_spml.utils.runs import ToolRunner, last_checkpoint

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = ToolRunner(osp.join(ROOT, 'tools'), '[pmm demo]')
CAM_CONFIG = (
    'configs/pmm/cam_efflite0-d16_1xb8-500_demo-scenes-tags-128x128.py'
)
SEG_CONFIGS = [
    (
        'CE',
        'configs/pmm/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-pseudo-ce-128x128.py',
    ),
    (
        'PUF',
        'configs/pmm/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-pseudo-puf-128x128.py',
    ),
]
METHODS = ('band', 'threshold', 'cvs', 'ppmg', 'cvs+ppmg')
#: The pseudo masks the segmentation networks are trained on (PMM's).
TRAIN_METHOD = 'cvs+ppmg'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--work-dir',
        default=osp.join(ROOT, 'work_dirs', 'pmm_demo'),
        help='where runs, CAMs, pseudo masks and tables are written',
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    work = osp.abspath(args.work_dir)
    data_root = demo_data_root(osp.join(ROOT, CAM_CONFIG))
    cam_dir = osp.join(work, 'cam')
    cam = TOOLS.train(osp.join(ROOT, CAM_CONFIG), cam_dir)
    checkpoint = last_checkpoint(cam_dir)
    cams = osp.join(work, 'cams')
    TOOLS.run(
        TOOLS.command(
            'make_cams.py',
            osp.join(ROOT, CAM_CONFIG),
            checkpoint,
            '--out',
            cams,
        )
    )
    split = osp.join(data_root, 'ImageSets', 'Segmentation', 'train.txt')
    gt_dir = osp.join(data_root, 'SegmentationClass')
    mask_rows = []
    for method in METHODS:
        out = osp.join(work, 'pseudo_' + method.replace('+', '_'))
        TOOLS.run(
            TOOLS.command(
                'make_pseudo_masks.py', cams, '--out', out, '--method', method
            )
        )
        scores = score_label_folder(
            out,
            gt_dir,
            class_names_of(None, 7),
            split=split,
            unlabelled='wrong',
            out=osp.join(out, 'scores.json'),
        )
        mask_rows.append(dict(method=method, **scores))
    train_masks = osp.join(work, 'pseudo_' + TRAIN_METHOD.replace('+', '_'))
    seg_rows = []
    for loss, config in SEG_CONFIGS:
        stem = osp.splitext(osp.basename(config))[0]
        metrics = TOOLS.train(
            osp.join(ROOT, config),
            osp.join(work, stem),
            f'train_dataloader.dataset.data_prefix.seg_map_path={train_masks}',
        )
        seg_rows.append(dict(loss=loss, **metrics))
    table = format_tables(cam, mask_rows, seg_rows)
    out = osp.join(work, 'pmm_demo_results.md')
    with open(out + '.tmp', 'w') as f:
        f.write(table + '\n')
    os.replace(out + '.tmp', out)
    print(f'\nPMM demo results (also in {out}):\n')
    print(table)
    return 0


def format_tables(cam: dict, mask_rows: List[dict], seg_rows: List[dict]):
    lines = [
        f'CAM seeds on the val split (image tags given, background '
        f'(1 - max CAM)^6): mIoU {cam["mIoU"]:.2f}',
        '',
        'Pseudo masks of the 200 training images vs their full masks '
        '(unlabelled pixels count as misses):',
        '',
        '| method | mIoU | mPrecision | mRecall | coverage |',
        '| --- | ---: | ---: | ---: | ---: |',
    ]
    for row in mask_rows:
        lines.append(
            f'| {row["method"]} | {row["mIoU"]:.2f} | '
            f'{row["mPrecision"]:.2f} | {row["mRecall"]:.2f} | '
            f'{row["coverage"]:.2f} |'
        )
    lines += [
        '',
        f'DeepLabV3-EffLite0 trained 1,000 iterations on the {TRAIN_METHOD} '
        'pseudo masks, val split:',
        '',
        '| loss | mIoU | mAcc | aAcc |',
        '| --- | ---: | ---: | ---: |',
    ]
    for row in seg_rows:
        lines.append(
            f'| {row["loss"]} | {row["mIoU"]:.2f} | {row["mAcc"]:.2f} | '
            f'{row["aAcc"]:.2f} |'
        )
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
