# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPML's stages end to end (``tools/spml_pipeline.py``): stage 1, pseudo
labels, stage 2 and further rounds, every stage a tool run in a subprocess
and skipped when its output exists."""

import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from mmseg_spml.pseudo_masks.evaluation import (
    class_names_of,
    score_label_folder,
)
from mmseg_spml.utils.io import save_json
from mmseg_spml.utils.runs import ToolRunner, last_checkpoint


@dataclass
class PipelineSettings:
    """The configs, options and outputs of one pipeline.

    Args:
        tools_dir (str): The checkout's ``tools/`` (``train.py``,
            ``make_pseudo_labels.py``).
        stage1 (str): SPML (embedding) config.
        stage2 (str): Classifier config on the frozen embedding, or with
            ``retrain`` any segmentor config.
        work_dir (str): Every stage's output goes below it.
        retrain (bool): Stage 2 trains ``stage2`` from its own
            initialisation on the pseudo labels as full masks.
        gt_dir (str, optional): Full masks of the training images, to score
            the pseudo labels (a diagnostic; never trained on).
        split (str, optional): Split file of the training images.
        num_classes (int): Classes of the scores. Default: 21.
        compare_raw (bool): Also write and score pseudo labels without
            random walk and CRF.
        rounds (int): Pseudo-label / stage-2 rounds; from round 2 the
            previous stage 2 seeds the pseudo labels.
        stage1_options (list[str]): ``--cfg-options`` of the stage-1
            config (training and pseudo labels).
        stage2_options (list[str]): ``--cfg-options`` of stage 2.
    """

    tools_dir: str
    stage1: str
    stage2: str
    work_dir: str
    retrain: bool = False
    gt_dir: Optional[str] = None
    split: Optional[str] = None
    num_classes: int = 21
    compare_raw: bool = False
    rounds: int = 1
    stage1_options: List[str] = field(default_factory=list)
    stage2_options: List[str] = field(default_factory=list)


class SPMLPipeline:
    """Runs the stages of :class:`PipelineSettings`.

    1. stage 1: the embedding model from weak labels;
    2. pseudo labels: ``make_pseudo_labels.py`` with the stage-1 config's
       ``pseudo_label_cfg``;
    3. stage 2 on the pseudo labels (the paper's classifier on the frozen
       embedding, or a retrained segmentor);
    4. each further round: pseudo labels seeded by the previous stage 2
       (walked on the stage-1 embedding), then a new stage 2.

    Args:
        settings (PipelineSettings): What to run, and where.
    """

    def __init__(self, settings: PipelineSettings) -> None:
        self.settings = settings
        self.tools = ToolRunner(settings.tools_dir, '[spml pipeline]')

    def pseudo_labels(
        self,
        ckpt: str,
        out: str,
        options: List[str],
        extra: Sequence[str] = (),
    ) -> None:
        """Write the pseudo labels of the stage-1 model ``ckpt`` unless
        ``out`` is complete (``tags.json`` is written last); ``extra``:
        more make_pseudo_labels.py arguments."""
        if osp.isfile(osp.join(out, 'tags.json')):
            return
        cmd = self.tools.command(
            'make_pseudo_labels.py', self.settings.stage1, ckpt, '--out', out
        )
        cmd += list(extra)
        if options:
            cmd += ['--cfg-options', *options]
        self.tools.run(cmd)

    def score(self, pred: str) -> Optional[dict]:
        """mIoU etc. of a pseudo-label folder against ``gt_dir``
        (unlabelled pixels count as misses), also written to
        ``pred/scores.json``; None without ``gt_dir``."""
        settings = self.settings
        if not settings.gt_dir:
            return None
        return score_label_folder(
            pred,
            settings.gt_dir,
            class_names_of(None, settings.num_classes),
            split=settings.split,
            unlabelled='wrong',
            out=osp.join(pred, 'scores.json'),
        )

    def train_stage2(
        self, name: str, stage1_ckpt: str, pseudo: str
    ) -> Tuple[dict, str]:
        """Train stage 2 on the pseudo labels in ``pseudo``; its metrics
        and checkpoint."""
        settings = self.settings
        if settings.retrain:
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
        work_dir = osp.join(settings.work_dir, name)
        metrics = self.tools.train(
            settings.stage2, work_dir, settings.stage2_options + target
        )
        return metrics, last_checkpoint(work_dir)

    def next_round(
        self, round_idx: int, stage1_ckpt: str, prev_ckpt: str, result: dict
    ) -> Tuple[dict, str]:
        """Pseudo labels seeded by the previous stage 2 (walked on the
        stage-1 embedding), then a new stage 2; its metrics and
        checkpoint (the round's scores go to ``result``)."""
        settings = self.settings
        pseudo = osp.join(settings.work_dir, f'pseudo_labels_round{round_idx}')
        self.pseudo_labels(
            stage1_ckpt,
            pseudo,
            settings.stage1_options
            # The seeds are the previous model's scores, never CAMs; the
            # stage-1 options decide whether annotations are kept.
            + ['pseudo_label_cfg.cams=None'],
            ['--seed-model', settings.stage2, prev_ckpt],
        )
        metrics, ckpt = self.train_stage2(
            f'stage2_round{round_idx}', stage1_ckpt, pseudo
        )
        result[f'round{round_idx}'] = dict(
            pseudo=self.score(pseudo), stage2=metrics
        )
        return metrics, ckpt

    def run(self) -> dict:
        """Every stage (finished ones skipped); the results, also written
        to ``<work_dir>/pipeline_results.json``.

        Returns:
            dict: ``stage1`` and ``stage2`` validation metrics, ``pseudo``
            (and ``raw``) pseudo-label scores or None, ``round<k>`` of each
            further round, and ``final``, the last stage 2's metrics.
        """
        settings = self.settings
        stage1_dir = osp.join(settings.work_dir, 'stage1')
        stage1 = self.tools.train(
            settings.stage1, stage1_dir, settings.stage1_options
        )
        ckpt = last_checkpoint(stage1_dir)
        pseudo = osp.join(settings.work_dir, 'pseudo_labels')
        self.pseudo_labels(ckpt, pseudo, settings.stage1_options)
        result = dict(stage1=stage1, pseudo=self.score(pseudo))
        if settings.compare_raw:
            raw = osp.join(settings.work_dir, 'pseudo_labels_raw')
            self.pseudo_labels(
                ckpt,
                raw,
                settings.stage1_options
                + [
                    'pseudo_label_cfg.random_walk=None',
                    'pseudo_label_cfg.crf=None',
                ],
            )
            result['raw'] = self.score(raw)
        stage2, prev_ckpt = self.train_stage2('stage2', ckpt, pseudo)
        result['stage2'] = final = stage2
        for round_idx in range(2, settings.rounds + 1):
            final, prev_ckpt = self.next_round(
                round_idx, ckpt, prev_ckpt, result
            )
        result['final'] = final
        save_json(osp.join(settings.work_dir, 'pipeline_results.json'), result)
        return result


def format_pipeline_summary(result: dict) -> str:
    """The lines the pipeline tool prints for :meth:`SPMLPipeline.run`'s
    ``result``: every stage's mIoU."""
    lines = [f'stage 1 classifier mIoU (val): {result["stage1"]["mIoU"]:.2f}']
    if result.get('raw'):
        lines.append(
            f'raw pseudo labels mIoU (train): {result["raw"]["mIoU"]:.2f}'
        )
    if result['pseudo']:
        lines.append(
            f'refined pseudo labels mIoU (train): '
            f'{result["pseudo"]["mIoU"]:.2f}'
        )
    lines.append(f'stage 2 mIoU (val): {result["stage2"]["mIoU"]:.2f}')
    round_idx = 2
    while f'round{round_idx}' in result:
        lines.append(
            f'round {round_idx} stage 2 mIoU (val): '
            f'{result[f"round{round_idx}"]["stage2"]["mIoU"]:.2f}'
        )
        round_idx += 1
    lines.append(f'final mIoU (val): {result["final"]["mIoU"]:.2f}')
    return '\n'.join(lines)
