# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The demo's runs of one seed (``tools/run_demo.py``): full supervision,
then for each annotation type SPML's pipeline (``tools/spml_pipeline.py``)
next to a plain baseline trained on the same labels, every stage a tool
run in a subprocess and cached in its work dir."""

import json
import os.path as osp
import time
from dataclasses import dataclass
from typing import Dict, List, Sequence

from mmengine.config import Config

from mmseg_spml.datasets.demo_scenes import (
    demo_data_root,
    ensure_demo_weak_labels,
)
from mmseg_spml.models.segmentors import IRN_CAM_SCALES
from mmseg_spml.utils.runs import (
    ToolRunner,
    finished_metrics,
    last_checkpoint,
    schedule_options,
)

from .pmm_demo import label_method_args

#: The paper's VOC setting of each annotation type (relative to the
#: repository): its relation concentrations and weights are used on the
#: demo data too.
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
DATASET = 'train_dataloader.dataset'
#: The work dir of full supervision, and the results file of a pipeline's.
FULL, RESULTS = 'full_masks', 'pipeline_results.json'


@dataclass
class DemoSettings:
    """What the demo trains, and where.

    Args:
        repo_root (str): The checkout whose ``tools/`` and ``configs/``
            run.
        work_dir (str): Runs go to ``<work_dir>/seed<seed>/``.
        factor (float): Iteration factor of every training but the CAM
            stage's (:func:`~mmseg_spml.utils.runs.schedule_options`).
        baseline_config (str): Full supervision, and stage 2 when
            retraining.
        weak_baseline_config (str): Plain CE on weak labels (unlabelled
            pixels ignored).
        stage1_config (str): SPML's stage 1 (its data root is the demo's).
        stage2_config (str): The classifier of ``stage2='classifier'``.
        cam_config (str): The CAM classifier of the tag and box settings.
        stage2 (str): ``'retrain'`` (the fully supervised network on the
            pseudo labels) or ``'classifier'`` (the paper's softmax
            classifier on the frozen stage-1 embedding).
        types (Sequence[str]): Annotation types, of :data:`TYPES`.
        baselines (bool): Also train each type's baseline.
    """

    repo_root: str
    work_dir: str
    factor: float
    baseline_config: str
    weak_baseline_config: str
    stage1_config: str
    stage2_config: str
    cam_config: str
    stage2: str = 'retrain'
    types: Sequence[str] = TYPES
    baselines: bool = True


def relation_options(
    stage1_config: str, kind: str, repo_root: str
) -> List[str]:
    """``--cfg-options`` giving the stage-1 relations the concentrations
    and weights of the paper's VOC setting of ``kind``
    (:data:`PAPER_SETTING` in ``repo_root``).

    Raises:
        ValueError: If the two configs do not list the same relations in
            the same order.
    """
    paper_file = PAPER_SETTING.format(PAPER_TYPE.get(kind, kind))
    paper = Config.fromfile(osp.join(repo_root, paper_file))
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


class DemoSeed:
    """The runs of one seed: every stage cached in its work dir.

    Args:
        settings (DemoSettings): What to train, and where.
        seed (int): The training seed of every run.
    """

    def __init__(self, settings: DemoSettings, seed: int) -> None:
        self.settings = settings
        self.seed = seed
        self.work = osp.join(settings.work_dir, f'seed{seed}')
        self.root = demo_data_root(settings.stage1_config)
        self.tools = ToolRunner(
            osp.join(settings.repo_root, 'tools'), '[demo]'
        )

    def options(self, config: str) -> List[str]:
        """The schedule and seed options of a training of ``config``."""
        return schedule_options(config, self.settings.factor) + [
            f'randomness.seed={self.seed}'
        ]

    def train(self, config: str, name: str, extra: List[str]) -> dict:
        return self.tools.train(
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
        config = self.settings.cam_config
        # The CAM config's views (its 2x view only) keep tag CAMs off the
        # background; in a box the box localises and min-max normalisation
        # removes the blur's offset, so the box setting's CAM stage (its
        # validation and its CAMs) takes IRN's VOC scales.
        views = [f'{DATASET}.weak.type={kind}']
        if kind == 'boxes':
            irn = ','.join(map(str, IRN_CAM_SCALES))
            views.append(f'model.test_cfg.scales=[{irn}]')
        # The CAM stage keeps its schedule: the quick demo must not cut it.
        self.tools.train(
            config,
            osp.join(work, 'cam'),
            [
                f'randomness.seed={self.seed}',
                f'val_dataloader.dataset.weak.type={kind}',
                *views,
            ],
        )
        cams = osp.join(work, 'cams')
        self.tools.run(
            self.tools.command(
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
            method = label_method_args('band+crf', images)
        if not osp.isfile(osp.join(labels, 'tags.json')):
            self.tools.run(
                self.tools.command(
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
        settings = self.settings
        work = self.pipeline_dir(kind)
        rounds = 2 if kind == 'tags' else 1
        if settings.stage2 == 'retrain':
            stage2, mode = settings.baseline_config, ['--retrain']
        else:
            stage2, mode = settings.stage2_config, []
        cmd = self.tools.command(
            'spml_pipeline.py',
            settings.stage1_config,
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
            *relation_options(
                settings.stage1_config, kind, settings.repo_root
            ),
            *self.options(settings.stage1_config),
            '--stage2-options',
            *self.options(stage2),
        )
        self.tools.run(cmd)
        return load_json(osp.join(work, RESULTS))

    def report(self) -> dict:
        """The finished runs of this seed, read without training: full
        supervision and the types whose pipeline finished (with their
        baseline where it finished); empty without full supervision."""
        full = finished_metrics(osp.join(self.work, FULL))
        if full is None:
            return {}
        rows = {'full masks': dict(final=full)}
        for kind in self.settings.types:
            path = osp.join(self.pipeline_dir(kind), RESULTS)
            if not osp.isfile(path):
                continue
            rows[kind] = load_json(path)
            baseline = finished_metrics(
                osp.join(self.work, baseline_name(kind))
            )
            if baseline is not None:
                rows[kind]['baseline'] = baseline
        return rows

    def run(self) -> dict:
        """Full supervision, then each type's pipeline and baseline."""
        full = self.train(self.settings.baseline_config, FULL, [])
        rows = {'full masks': dict(final=full)}
        for kind in self.settings.types:
            start = time.time()
            weak = self.weak_options(kind)
            result = self.pipeline(kind, weak)
            result['seconds'] = time.time() - start
            if self.settings.baselines:
                result['baseline'] = self.train(
                    self.settings.weak_baseline_config,
                    baseline_name(kind),
                    weak['baseline'],
                )
            rows[kind] = result
        return rows


def baseline_name(kind: str) -> str:
    """The work-dir name of the baseline of ``kind`` (types sharing labels
    share it: ``baseline_filled_boxes``)."""
    return 'baseline_' + BASELINE_LABELS[kind].split(', ')[1].replace(' ', '_')


def load_json(path: str) -> dict:
    """The JSON document of ``path``."""
    with open(path) as f:
        return json.load(f)
