# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Run PMM's pseudo-mask pipeline on the demo data (`make demo-pmm`).

1. trains the CAM classifier from image tags;
2. writes the CAMs of the training images (the CAM config's views);
3. turns them into pseudo masks six ways (IRN's confidence band, with and
   without IRN's CRF, SPML's threshold, CVS, PPMG, CVS+PPMG) and scores
   each against the full masks of the training images;
4. trains DeepLabV3 on the CVS+PPMG masks with plain cross-entropy and with
   PUF, and evaluates both on the val split.

Every step skips what a previous run finished (delete the work dir to start
over). The tables are printed and written to
``<work-dir>/pmm_demo_results.md``.

Example:
    python tools/run_pmm_demo.py --work-dir work_dirs/pmm_demo
"""

import argparse
import os.path as osp
import sys

from mmseg_spml.experiments import PMMDemo
from mmseg_spml.utils.io import atomic_file

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CAM_CONFIG = (
    'configs/pmm/cam_efflite0-d16_1xb8-500_demo-scenes-tags-128x128.py'
)
CE_CONFIG = (
    'configs/pmm/'
    'deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-pseudo-ce-128x128.py'
)
PUF_CONFIG = (
    'configs/pmm/'
    'deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-pseudo-puf-128x128.py'
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--work-dir',
        default=osp.join(ROOT, 'work_dirs', 'pmm_demo'),
        help='where runs, CAMs, pseudo masks and tables are written',
    )
    parser.add_argument('--cam-config', default=CAM_CONFIG)
    parser.add_argument(
        '--ce-config',
        default=CE_CONFIG,
        help='segmentor trained with plain CE on the cvs+ppmg masks',
    )
    parser.add_argument(
        '--puf-config',
        default=PUF_CONFIG,
        help='the same with PUF',
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    work = osp.abspath(args.work_dir)
    demo = PMMDemo(
        osp.join(ROOT, 'tools'),
        work,
        osp.join(ROOT, args.cam_config),
        [
            ('CE', osp.join(ROOT, args.ce_config)),
            ('PUF', osp.join(ROOT, args.puf_config)),
        ],
    )
    table = demo.run()
    out = osp.join(work, 'pmm_demo_results.md')
    with atomic_file(out, 'w') as f:
        f.write(table + '\n')
    print(f'\nPMM demo results (also in {out}):\n')
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
