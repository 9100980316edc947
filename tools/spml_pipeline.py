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
from typing import List, Optional, Sequence, Tuple

from mmseg_spml.pseudo_masks.evaluation import (
    class_names_of,
    score_label_folder,
)
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import save_json
from mmseg_spml.utils.runs import ToolRunner, last_checkpoint

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = ToolRunner(osp.join(ROOT, 'tools'), '[spml pipeline]')


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


def pseudo_labels(
    config: str,
    ckpt: str,
    out: str,
    options: List[str],
    extra: Sequence[str] = (),
) -> None:
    """Write the pseudo labels unless ``out`` is complete (``tags.json`` is
    written last); ``extra``: more make_pseudo_labels.py arguments."""
    if osp.isfile(osp.join(out, 'tags.json')):
        return
    cmd = TOOLS.command('make_pseudo_labels.py', config, ckpt, '--out', out)
    cmd += list(extra)
    if options:
        cmd += ['--cfg-options', *options]
    TOOLS.run(cmd)


def score(pred: str, args: argparse.Namespace) -> Optional[dict]:
    """mIoU etc. of a pseudo-label folder against ``--gt-dir`` (unlabelled
    pixels count as misses), also written to ``pred/scores.json``."""
    if not args.gt_dir:
        return None
    return score_label_folder(
        pred,
        args.gt_dir,
        class_names_of(None, args.num_classes),
        split=args.split,
        unlabelled='wrong',
        out=osp.join(pred, 'scores.json'),
    )


def train_stage2(
    args: argparse.Namespace, name: str, stage1_ckpt: str, pseudo: str
) -> Tuple[dict, str]:
    """Train stage 2 on the pseudo labels in ``pseudo``; its metrics and
    checkpoint."""
    if args.retrain:
        target = [
            f'train_dataloader.dataset.data_prefix.seg_map_path={pseudo}'
        ]
    else:
        target = [
            f'load_from={stage1_ckpt}',
            f'train_dataloader.dataset.data_prefix.weak_path={pseudo}',
            f'train_dataloader.dataset.tags_file={pseudo}/tags.json',
            # Labels of the pipeline itself: their quality is measured,
            # not refused (see WeakSegDataset's require_background).
            'train_dataloader.dataset.require_background=False',
        ]
    work_dir = osp.join(args.work, name)
    metrics = TOOLS.train(args.stage2, work_dir, args.stage2_options + target)
    return metrics, last_checkpoint(work_dir)


def next_round(
    args: argparse.Namespace,
    round_idx: int,
    stage1_ckpt: str,
    prev_ckpt: str,
    result: dict,
) -> Tuple[dict, str]:
    """Pseudo labels seeded by the previous stage 2 (walked on the stage-1
    embedding), then a new stage 2; its metrics and checkpoint."""
    pseudo = osp.join(args.work, f'pseudo_labels_round{round_idx}')
    pseudo_labels(
        args.stage1,
        stage1_ckpt,
        pseudo,
        args.stage1_options
        # The seeds are the previous model's scores, never CAMs; the
        # stage-1 options decide whether annotations are kept.
        + ['pseudo_label_cfg.cams=None'],
        ['--seed-model', args.stage2, prev_ckpt],
    )
    metrics, ckpt = train_stage2(
        args, f'stage2_round{round_idx}', stage1_ckpt, pseudo
    )
    result[f'round{round_idx}'] = dict(
        pseudo=score(pseudo, args), stage2=metrics
    )
    return metrics, ckpt


def main(argv=None) -> int:
    args = parse_args(argv)
    args.stage1, args.stage2 = map(osp.abspath, (args.stage1, args.stage2))
    args.work = work = osp.abspath(args.work_dir)
    stage1_dir = osp.join(work, 'stage1')
    stage1 = TOOLS.train(args.stage1, stage1_dir, args.stage1_options)
    ckpt = last_checkpoint(stage1_dir)
    pseudo = osp.join(work, 'pseudo_labels')
    pseudo_labels(args.stage1, ckpt, pseudo, args.stage1_options)
    result = dict(stage1=stage1, pseudo=score(pseudo, args))
    if args.compare_raw:
        raw = osp.join(work, 'pseudo_labels_raw')
        pseudo_labels(
            args.stage1,
            ckpt,
            raw,
            args.stage1_options
            + [
                'pseudo_label_cfg.random_walk=None',
                'pseudo_label_cfg.crf=None',
            ],
        )
        result['raw'] = score(raw, args)
    stage2, prev_ckpt = train_stage2(args, 'stage2', ckpt, pseudo)
    result['stage2'] = final = stage2
    for round_idx in range(2, args.rounds + 1):
        final, prev_ckpt = next_round(args, round_idx, ckpt, prev_ckpt, result)
    result['final'] = final
    summary = osp.join(work, 'pipeline_results.json')
    save_json(summary, result)
    print(f'\n[spml pipeline] results in {summary}')
    print(f'stage 1 classifier mIoU (val): {stage1["mIoU"]:.2f}')
    if result.get('raw'):
        print(f'raw pseudo labels mIoU (train): {result["raw"]["mIoU"]:.2f}')
    if result['pseudo']:
        print(
            f'refined pseudo labels mIoU (train): '
            f'{result["pseudo"]["mIoU"]:.2f}'
        )
    print(f'stage 2 mIoU (val): {stage2["mIoU"]:.2f}')
    for round_idx in range(2, args.rounds + 1):
        print(
            f'round {round_idx} stage 2 mIoU (val): '
            f'{result[f"round{round_idx}"]["stage2"]["mIoU"]:.2f}'
        )
    print(f'final mIoU (val): {final["mIoU"]:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
