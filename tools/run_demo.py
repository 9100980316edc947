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
import json
import os.path as osp
import sys
import time
from typing import Dict, List

from mmengine.config import Config

from mmseg_spml.apis import IRN_CAM_SCALES
from mmseg_spml.datasets.demo_scenes import (
    demo_data_root,
    ensure_demo_weak_labels,
)
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import atomic_file, save_json
from mmseg_spml.utils.runs import (
    ToolRunner,
    finished_metrics,
    format_mean_std,
    last_checkpoint,
    schedule_options,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = ToolRunner(osp.join(ROOT, 'tools'), '[demo]')
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
#: The paper's VOC setting of each annotation type: its relation
#: concentrations and weights are used on the demo data too.
PAPER_SETTING = 'configs/spml/deeplabv3_r101_voc_{}.py'
TYPES = ('scribbles', 'points', 'boxes', 'box-prior', 'tags')
#: The paper's setting each type takes its relations from.
PAPER_TYPE = {'box-prior': 'boxes'}
#: What each type's baseline is trained on (the row's label).
BASELINE_LABELS = {
    'scribbles': 'partial CE, scribbles',
    'points': 'partial CE, points',
    'boxes': 'CE, filled boxes',
    'box-prior': 'CE, filled boxes',
    'tags': 'partial CE, CAM labels',
}
#: Iteration factor of every training but the CAM stage's.
SCHEDULES = dict(quick=0.4, full=1.0)
DATASET = 'train_dataloader.dataset'
#: The work dir of full supervision, and the results file of a pipeline's.
FULL, RESULTS = 'full_masks', 'pipeline_results.json'


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


def relation_options(stage1_config: str, kind: str) -> List[str]:
    """``--cfg-options`` giving the stage-1 relations the concentrations
    and weights of the paper's VOC setting of ``kind``.

    Raises:
        ValueError: If the two configs do not list the same relations in
            the same order.
    """
    paper_file = PAPER_SETTING.format(PAPER_TYPE.get(kind, kind))
    paper = Config.fromfile(osp.join(ROOT, paper_file))
    ours = Config.fromfile(stage1_config)
    theirs = paper.model.decode_head.segsort.relations
    mine = ours.model.decode_head.segsort.relations
    if [r.type for r in theirs] != [r.type for r in mine]:
        raise ValueError(
            f'{stage1_config} has the relations {[r.type for r in mine]}, '
            f'but the paper setting {paper_file} has '
            f'{[r.type for r in theirs]}: they must match one to one'
        )
    prefix = 'model.decode_head.segsort.relations'
    return [
        f'{prefix}.{i}.{key}={relation[key]}'
        for i, relation in enumerate(theirs)
        for key in ('concentration', 'loss_weight')
    ]


def label_folder_options(folder: str) -> List[str]:
    """``--cfg-options`` that train on the label PNGs of ``folder`` (with
    its ``tags.json``) instead of synthesised weak labels.

    These are the CAM stage's labels: their background comes from the
    CAMs, and a CAM stage that finds none is a result of the run (its
    label scores say so; ``make_pseudo_masks.py`` warns), not a
    background-less annotation set for the dataset to refuse.
    """
    return [
        f'{DATASET}.weak=None',
        f'{DATASET}.data_prefix.img_path=JPEGImages',
        f'{DATASET}.data_prefix.seg_map_path=SegmentationClass',
        f'{DATASET}.data_prefix.weak_path={folder}',
        f'{DATASET}.tags_file={folder}/tags.json',
        f'{DATASET}.require_background=False',
    ]


class Demo:
    """The runs of one seed: every stage cached in its work dir."""

    def __init__(self, args: argparse.Namespace, seed: int) -> None:
        self.args = args
        self.seed = seed
        self.work = osp.join(args.work, f'seed{seed}')
        self.root = demo_data_root(args.stage1_config)

    def options(self, config: str) -> List[str]:
        """The schedule and seed options of a training of ``config``."""
        return schedule_options(config, self.args.factor) + [
            f'randomness.seed={self.seed}'
        ]

    def train(self, config: str, name: str, extra: List[str]) -> dict:
        return TOOLS.train(
            config, osp.join(self.work, name), self.options(config) + extra
        )

    def box_folder(self, box_labels: str = 'unlabelled') -> str:
        """The demo's synthetic box annotation (with ``boxes.json``)."""
        weak = dict(type='boxes', box_labels=box_labels)
        return osp.join(self.root, ensure_demo_weak_labels(self.root, weak))

    def cam_stage(self, kind: str) -> Dict[str, str]:
        """PMM's CAM stage on the tags (``tags``) or the box tags
        (``boxes``): the folders of the CAMs and of the stage-1 labels."""
        work = osp.join(self.work, f'cam_{kind}')
        config = self.args.cam_config
        # The CAM config's views (its 2x view only) keep tag CAMs off the
        # background; in a box the box localises and min-max normalisation
        # removes the blur's offset, so the box setting's CAM stage (its
        # validation and its CAMs) takes IRN's VOC scales.
        views = [f'{DATASET}.weak.type={kind}']
        if kind == 'boxes':
            irn = ','.join(map(str, IRN_CAM_SCALES))
            views.append(f'model.test_cfg.scales=[{irn}]')
        # The CAM stage keeps its schedule: the quick demo must not cut it.
        TOOLS.train(
            config,
            osp.join(work, 'cam'),
            [
                f'randomness.seed={self.seed}',
                f'val_dataloader.dataset.weak.type={kind}',
                *views,
            ],
        )
        cams = osp.join(work, 'cams')
        TOOLS.run(
            TOOLS.command(
                'make_cams.py',
                config,
                last_checkpoint(osp.join(work, 'cam')),
                '--out',
                cams,
                '--cfg-options',
                *views,
            )
        )
        labels = osp.join(work, 'labels')
        if kind == 'boxes':
            method = ['--boxes', self.box_folder()]
        else:
            # IRN's band, both seed maps refined by IRN's CRF on the image.
            images = osp.join(self.root, 'JPEGImages')
            method = [
                '--method',
                'band',
                '--crf',
                images,
                '--img-suffix',
                '.jpg',
            ]
        if not osp.isfile(osp.join(labels, 'tags.json')):
            TOOLS.run(
                TOOLS.command(
                    'make_pseudo_masks.py', cams, '--out', labels, *method
                )
            )
        return dict(cams=cams, labels=labels)

    def weak_options(self, kind: str) -> Dict[str, List[str]]:
        """Training-set options of the stage-1 run and of the baseline,
        and pseudo-label options, of ``kind``."""
        if kind in ('scribbles', 'points'):
            weak = [f'{DATASET}.weak.type={kind}']
            return dict(stage1=weak, baseline=weak, pseudo=[])
        boxes = osp.join(self.box_folder(), 'boxes.json')
        # Only the boxes are certain: the refined prediction replaces the
        # CAM or prior labels inside them.
        pseudo = ['pseudo_label_cfg.keep_weak_labels=False']
        filled = [
            f'{DATASET}.weak.type=boxes',
            f'{DATASET}.weak.box_labels=filled',
        ]
        if kind == 'boxes':
            labels = self.cam_stage('boxes')['labels']
            stage1 = label_folder_options(labels)
            pseudo += [f'pseudo_label_cfg.boxes={boxes}']
            return dict(stage1=stage1, baseline=filled, pseudo=pseudo)
        if kind == 'box-prior':
            stage1 = [
                f'{DATASET}.weak.type=boxes',
                f'{DATASET}.weak.box_labels=prior',
            ]
            pseudo += [f'pseudo_label_cfg.boxes={boxes}']
            return dict(stage1=stage1, baseline=filled, pseudo=pseudo)
        cam = self.cam_stage('tags')
        stage1 = label_folder_options(cam['labels'])
        pseudo += [f'pseudo_label_cfg.cams={cam["cams"]}']
        return dict(stage1=stage1, baseline=stage1, pseudo=pseudo)

    def pipeline_dir(self, kind: str) -> str:
        """The work dir of SPML's pipeline on ``kind``."""
        return osp.join(self.work, f'spml_{kind}')

    def pipeline(self, kind: str, weak: Dict[str, List[str]]) -> dict:
        """SPML's pipeline on ``kind``; its ``pipeline_results.json``."""
        args = self.args
        work = self.pipeline_dir(kind)
        rounds = 2 if kind == 'tags' else 1
        if args.stage2 == 'retrain':
            stage2, mode = args.baseline_config, ['--retrain']
        else:
            stage2, mode = args.stage2_config, []
        cmd = TOOLS.command(
            'spml_pipeline.py',
            args.stage1_config,
            stage2,
            *mode,
            '--work-dir',
            work,
            '--gt-dir',
            osp.join(self.root, 'SegmentationClass'),
            '--split',
            osp.join(self.root, 'ImageSets', 'Segmentation', 'train.txt'),
            '--num-classes',
            '7',
            '--rounds',
            str(rounds),
            '--stage1-options',
            *weak['stage1'],
            *weak['pseudo'],
            *relation_options(args.stage1_config, kind),
            *self.options(args.stage1_config),
            '--stage2-options',
            *self.options(stage2),
        )
        TOOLS.run(cmd)
        return _load_json(osp.join(work, RESULTS))

    def report(self) -> dict:
        """The finished runs of this seed, read without training: full
        supervision and the types whose pipeline finished (with their
        baseline where it finished); empty without full supervision."""
        full = finished_metrics(osp.join(self.work, FULL))
        if full is None:
            return {}
        rows = {'full masks': dict(final=full)}
        for kind in self.args.types:
            path = osp.join(self.pipeline_dir(kind), RESULTS)
            if not osp.isfile(path):
                continue
            rows[kind] = _load_json(path)
            baseline = finished_metrics(
                osp.join(self.work, baseline_name(kind))
            )
            if baseline is not None:
                rows[kind]['baseline'] = baseline
        return rows

    def run(self) -> dict:
        """Full supervision, then each type's pipeline and baseline."""
        full = self.train(self.args.baseline_config, FULL, [])
        rows = {'full masks': dict(final=full)}
        for kind in self.args.types:
            start = time.time()
            weak = self.weak_options(kind)
            result = self.pipeline(kind, weak)
            result['seconds'] = time.time() - start
            if not self.args.no_baselines:
                result['baseline'] = self.train(
                    self.args.weak_baseline_config,
                    baseline_name(kind),
                    weak['baseline'],
                )
            rows[kind] = result
        return rows


def baseline_name(kind: str) -> str:
    """The work-dir name of the baseline of ``kind`` (types sharing labels
    share it: ``baseline_filled_boxes``)."""
    return 'baseline_' + BASELINE_LABELS[kind].split(', ')[1].replace(' ', '_')


def _load_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def _cell(results: List[dict], *keys: str) -> str:
    """``mean ± std`` over seeds of ``result[k0][k1]...`` (blank if
    missing)."""
    values = []
    for result in results:
        for key in keys:
            result = (result or {}).get(key)
        if result is None:
            return ''
        values.append(result)
    return format_mean_std(values)


def format_table(per_seed: Dict[int, dict], types: List[str]) -> str:
    """The markdown table over seeds (mean ± std where several).

    Args:
        per_seed (dict): Seed -> its rows (:meth:`Demo.run` or
            :meth:`Demo.report`); a seed may lack some types.
        types (list[str]): The rows to show, where any seed has them.

    Returns:
        str: One row per type, each over the seeds that have it (listed in
        its last column), its ratio to the same seeds' full supervision.
    """
    lines = [
        '| supervision | baseline | baseline mIoU | SPML stage 1 | '
        'pseudo labels (train) | SPML final | final / full | seeds |',
        '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    with_full = {s: r for s, r in per_seed.items() if 'full masks' in r}
    if not with_full:
        return '\n'.join(lines)
    lines.append(
        f'| full masks | CE | | | | '
        f'{_cell(list(with_full.values()), "full masks", "final", "mIoU")} '
        f'| 100 % | {", ".join(map(str, with_full))} |'
    )
    for kind in types:
        seeds = [s for s, r in with_full.items() if kind in r]
        if not seeds:
            continue
        rows = [with_full[s][kind] for s in seeds]
        full = [with_full[s]['full masks']['final']['mIoU'] for s in seeds]
        ratio = [100 * r['final']['mIoU'] / f for r, f in zip(rows, full) if f]
        name = kind + (' (CAM labels, 2 rounds)' if kind == 'tags' else '')
        lines.append(
            f'| {name} | {BASELINE_LABELS[kind]} | '
            f'{_cell(rows, "baseline", "mIoU")} | '
            f'{_cell(rows, "stage1", "mIoU")} | '
            f'{_cell(rows, "pseudo", "mIoU")} | '
            f'{_cell(rows, "final", "mIoU")} | '
            f'{format_mean_std(ratio) if ratio else ""} % | '
            f'{", ".join(map(str, seeds))} |'
        )
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    for key in (
        'baseline_config',
        'weak_baseline_config',
        'stage1_config',
        'stage2_config',
        'cam_config',
    ):
        setattr(args, key, osp.join(ROOT, getattr(args, key)))
    args.factor = SCHEDULES[args.schedule]
    args.work = osp.abspath(
        args.work_dir or osp.join(ROOT, 'work_dirs', f'demo_{args.schedule}')
    )
    start = time.time()
    per_seed = {
        seed: Demo(args, seed).report()
        if args.report
        else Demo(args, seed).run()
        for seed in args.seeds
    }
    table = format_table(per_seed, args.types)
    save_json(
        osp.join(args.work, 'demo_results.json'),
        dict(
            seeds=args.seeds,
            schedule=args.schedule,
            report=args.report,
            results=[per_seed[seed] for seed in args.seeds],
        ),
    )
    with atomic_file(osp.join(args.work, 'demo_results.md'), 'w') as f:
        f.write(table + '\n')
    print(
        f'\nDemo results ({args.schedule} schedule, seeds {args.seeds}, '
        f'{time.time() - start:.0f} s): val mIoU of the demo data (pseudo '
        f'labels: on the training images); also in {args.work}:\n'
    )
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
