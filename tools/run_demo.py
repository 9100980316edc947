# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Train on the embedded demo data and print an mIoU table (`make demo`).

For each annotation type, SPML's pipeline (``tools/spml_pipeline.py``:
stage-1 embedding, pseudo labels by random walk and dense CRF, stage 2)
runs next to a plain baseline trained on the same labels, and both next to
full supervision. Stage 2 retrains the fully supervised network (the same
DeepLabV3 as full supervision and the baselines) on the pseudo labels;
``--stage2 classifier`` trains the paper's softmax classifier on the frozen
stage-1 embedding instead (on the demo that classifier is bounded by the
embedding: 40.0 vs 51.2 mIoU for the retrained network, one run of
scribbles at 600 iterations). The types:

* ``scribbles``, ``points``: synthetic scribbles and clicks, sized to the
  image as the paper's are to Pascal VOC; baseline: partial CE;
* ``boxes``: the paper's box setting (appendix A.2): a CAM classifier
  trained on the box tags, CAMs (at IRN's VOC scales) min-max normalised
  box by box and thresholded (``make_pseudo_masks.py --boxes``),
  background outside the boxes; pseudo labels under the box constraint;
  baseline: CE on filled boxes;
* ``box-prior``: CAM-free boxes: an SDI-style core of each box labelled,
  the rest of the box unlabelled; same box constraint and baseline;
* ``tags``: PMM's CAM stage on the image tags (CAM classifier,
  ``make_cams.py`` at the CAM config's ``test_cfg`` views, IRN's confidence
  band refined by IRN's CRF, ``make_pseudo_masks.py --method band
  --crf``); pseudo labels seeded by
  the CAMs, propagated on the stage-1 embedding, two rounds (the paper's
  tag setting); baseline: partial CE on the CAM labels.

Each type trains with the relation weights and concentrations of the
paper's VOC setting of that type (read from
``configs/spml/deeplabv3_r101_voc_<type>.py``). ``--schedule full`` runs
the configs as written; ``--schedule quick`` (the default) runs every
training but the CAM stage's at 0.4x its iterations (about 19 minutes per
type and seed at the full schedule on two CPU cores: see the README).
``--seeds 0 1 2`` repeats
everything per seed and reports mean and standard deviation. Metrics are
read from the runs' logs and written to ``<work-dir>/demo_results.md`` and
``demo_results.json``. Finished stages are skipped on a rerun;
``--report`` trains nothing and tabulates the finished runs, each row over
the seeds that finished it (its last column lists them).

Example:
    python tools/run_demo.py
    python tools/run_demo.py --types scribbles points --seeds 0 1 2
    python tools/run_demo.py --schedule full --work-dir work_dirs/seeds_full \
        --seeds 0 1 2 --report
"""

import argparse
import os.path as osp
import sys
import time

from mmseg_spml.experiments import TYPES, DemoSeed, DemoSettings, format_table
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import atomic_file, save_json

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASELINE = (
    'configs/baselines/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py'
)
WEAK_BASELINE = (
    'configs/baselines/'
    'deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-scribbles-pce-128x128.py'
)
STAGE1 = (
    'configs/spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py'
)
STAGE2 = (
    'configs/spml/spml_efflite0-d16_1xb8-500_demo-scenes-classifier-128x128.py'
)
CAM = 'configs/pmm/cam_efflite0-d16_1xb8-500_demo-scenes-tags-128x128.py'
#: Iteration factor of every training but the CAM stage's.
SCHEDULES = dict(quick=0.4, full=1.0)


def parse_args(argv=None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument(
        '--work-dir',
        help='where runs and the results table are written (default: '
        'work_dirs/demo_<schedule>)',
    )
    parser.add_argument(
        '--schedule',
        choices=tuple(SCHEDULES),
        default='quick',
        help='quick: every config at 0.4x its iterations; full: as written '
        '(the CAM stage keeps its schedule in both)',
    )
    parser.add_argument('--baseline-config', default=BASELINE)
    parser.add_argument(
        '--weak-baseline-config',
        default=WEAK_BASELINE,
        help='plain CE on weak labels (unlabelled pixels ignored), trained '
        'on each type',
    )
    parser.add_argument('--stage1-config', default=STAGE1)
    parser.add_argument(
        '--stage2',
        choices=('retrain', 'classifier'),
        default='retrain',
        help="SPML's final stage: retrain the fully supervised config on "
        "the pseudo labels (default), or the paper's softmax classifier "
        'on the frozen stage-1 embedding (--stage2-config)',
    )
    parser.add_argument(
        '--stage2-config',
        default=STAGE2,
        help='classifier config of --stage2 classifier',
    )
    parser.add_argument(
        '--cam-config',
        default=CAM,
        help='CAM classifier of the tag and box settings (PMM stage)',
    )
    parser.add_argument(
        '--types',
        nargs='+',
        choices=TYPES,
        default=list(TYPES),
        help='weak label types to run SPML on',
    )
    parser.add_argument(
        '--no-baselines',
        action='store_true',
        help='skip the weak baselines (SPML and full supervision only)',
    )
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0],
        help='training seeds; several give mean and standard deviation',
    )
    parser.add_argument(
        '--report',
        action='store_true',
        help='train nothing: the table of the finished runs of --seeds and '
        '--types in the work dir, each row over the seeds that finished it',
    )
    args = parser.parse_args(argv)
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds repeats a seed: {args.seeds}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    work = osp.abspath(
        args.work_dir or osp.join(ROOT, 'work_dirs', f'demo_{args.schedule}')
    )
    settings = DemoSettings(
        repo_root=ROOT,
        work_dir=work,
        factor=SCHEDULES[args.schedule],
        baseline_config=osp.join(ROOT, args.baseline_config),
        weak_baseline_config=osp.join(ROOT, args.weak_baseline_config),
        stage1_config=osp.join(ROOT, args.stage1_config),
        stage2_config=osp.join(ROOT, args.stage2_config),
        cam_config=osp.join(ROOT, args.cam_config),
        stage2=args.stage2,
        types=args.types,
        baselines=not args.no_baselines,
    )
    start = time.time()
    per_seed = {
        seed: DemoSeed(settings, seed).report()
        if args.report
        else DemoSeed(settings, seed).run()
        for seed in args.seeds
    }
    table = format_table(per_seed, args.types)
    save_json(
        osp.join(work, 'demo_results.json'),
        dict(
            seeds=args.seeds,
            schedule=args.schedule,
            report=args.report,
            results=[per_seed[seed] for seed in args.seeds],
        ),
    )
    with atomic_file(osp.join(work, 'demo_results.md'), 'w') as f:
        f.write(table + '\n')
    print(
        f'\nDemo results ({args.schedule} schedule, seeds {args.seeds}, '
        f'{time.time() - start:.0f} s): val mIoU of the demo data (pseudo '
        f'labels: on the training images); also in {work}:\n'
    )
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
