# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Run SPML's stages end to end, caching each stage's output.

1. **stage 1**: train the embedding (SegSort) model from weak labels;
2. **pseudo labels**: ``tools/make_pseudo_labels.py`` with the stage-1
   config's ``pseudo_label_cfg`` (random walk, optional CRF);
3. **stage 2**, one of
   * the paper's (default): train the softmax classifier of STAGE2 on the
     frozen stage-1 embedding from the pseudo labels (``load_from`` the
     stage-1 weights);
   * ``--retrain``: train STAGE2, any segmentor config (e.g. the fully
     supervised one), from its own initialisation on the pseudo labels as
     full masks, the final step of most multi-stage weakly supervised
     methods (PSA, IRN, PMM retrain DeepLab on their pseudo masks);
4. with ``--rounds 2`` (the paper's tag setting), the stage-2 model seeds
   new pseudo labels (its scores, walked on the stage-1 embedding) and a
   new stage 2 is trained on them;
5. the final model is the last stage 2; every stage's validation mIoU is
   read from its log.

Each stage is skipped when its output exists (a finished run, a complete
pseudo-label folder), so a rerun continues where the last one stopped and
nothing is ever "not found because a step was not run". With ``--gt-dir``
(full masks of the *training* images, a diagnostic: SPML never trains on
them) the pseudo labels are scored, and with ``--compare-raw`` also the
unrefined stage-1 predictions, to show what the refinement adds.

Examples:
    cd configs/spml && python ../../tools/spml_pipeline.py \
        spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py \
        spml_efflite0-d16_1xb8-500_demo-scenes-classifier-128x128.py \
        --work-dir ../../work_dirs/pipeline_scribbles
"""

import argparse
import os.path as osp
import sys

from mmseg_spml.experiments import (
    PipelineSettings,
    SPMLPipeline,
    format_pipeline_summary,
)
from mmseg_spml.utils.cli import doc_parser

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('stage1', help='SPML (embedding) config')
    parser.add_argument(
        'stage2',
        help='classifier config (frozen embedding), or with --retrain any '
        'segmentor config',
    )
    parser.add_argument(
        '--retrain',
        action='store_true',
        help='stage 2 trains STAGE2 on the pseudo labels as full masks',
    )
    parser.add_argument('--work-dir', required=True)
    parser.add_argument(
        '--gt-dir',
        help='full masks of the training images, to score the pseudo '
        'labels (diagnostic only)',
    )
    parser.add_argument('--split', help='split file of the training images')
    parser.add_argument('--num-classes', type=int, default=21)
    parser.add_argument(
        '--compare-raw',
        action='store_true',
        help='also write and score pseudo labels without random walk/CRF',
    )
    parser.add_argument(
        '--rounds',
        type=int,
        default=1,
        help='pseudo-label/classifier rounds; from round 2 the previous '
        "classifier makes the pseudo labels (the paper's tag setting: 2)",
    )
    parser.add_argument(
        '--stage1-options',
        nargs='+',
        default=[],
        help='--cfg-options of the stage-1 config (training and pseudo '
        'labels), e.g. train_dataloader.dataset.weak.type=points',
    )
    parser.add_argument(
        '--stage2-options',
        nargs='+',
        default=[],
        help='--cfg-options of the stage-2 training',
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    work = osp.abspath(args.work_dir)
    settings = PipelineSettings(
        tools_dir=osp.join(ROOT, 'tools'),
        stage1=osp.abspath(args.stage1),
        stage2=osp.abspath(args.stage2),
        work_dir=work,
        retrain=args.retrain,
        gt_dir=args.gt_dir,
        split=args.split,
        num_classes=args.num_classes,
        compare_raw=args.compare_raw,
        rounds=args.rounds,
        stage1_options=args.stage1_options,
        stage2_options=args.stage2_options,
    )
    result = SPMLPipeline(settings).run()
    print(f'\n[spml pipeline] results in {work}/pipeline_results.json')
    print(format_pipeline_summary(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
