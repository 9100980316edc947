# Copyright (c) mmseg-spml contributors. All rights reserved.
"""PMM's cyclic pseudo-mask as a hook: regenerate the training labels from
the model during training, without shell-script orchestration."""

import json
import os
import os.path as osp
import shutil
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.utils import ProgressBar
from mmseg.registry import HOOKS

from mmseg_spml.utils.io import label_palette, save_label_png
from mmseg_spml.utils.models import eval_mode


@HOOKS.register_module()
class CyclicPseudoMaskHook(Hook):
    """Rewrite the pseudo labels of the training set with the model's own
    predictions at given iterations (PMM's cyclic pseudo-mask).

    After each iteration in ``at_iters``, the current model (the last
    weights: nothing is selected on validation ground truth, unlike PMM's
    ``pick_best_pth.py``) predicts every image of ``dataloader`` (a
    test-style dataloader over the *training* images; put flip or
    multi-scale test-time augmentation in its model/pipeline as usual),
    and the argmax label maps replace the files of ``label_dir``, one by
    one, atomically. The labels they replace are first copied to
    ``<work_dir>/cyclic_pseudo_masks/before_round_<k>/``, so nothing is
    lost. Training then continues on the new labels (the training set
    reads its label files at every load), or, with ``restart=True``,
    restarts from freshly initialised weights and an empty optimizer
    state, as PMM's second round does (give the schedule one phase per
    round, e.g. two ``PolyLR`` with ``begin``/``end``).

    With several processes, each rank predicts its share of the images
    (the dataloader's sampler) and all ranks wait for the others.

    Args:
        at_iters (Sequence[int]): Iterations after which the labels are
            regenerated.
        dataloader (dict): Config of the dataloader over the training
            images (``batch_size=1`` and a ``DefaultSampler`` without
            shuffling are typical).
        label_dir (str, optional): Folder of the label PNGs the training set
            reads (``<name>.png``). Default: the training set's
            ``data_prefix['weak_path']``.
        restrict_to_tags (bool): Only the classes of the image's tags (and
            background) can be predicted, as PMM restricts pseudo masks to
            the image labels. Tags come from ``tags_file`` if given, else
            from the samples' ``img_tags``. Default: True.
        tags_file (str, optional): JSON file ``{name: [class ids]}`` (as
            the weak-label tools write), for dataloaders whose dataset
            does not provide ``img_tags``. Default: None.
        restart (bool): Re-initialise the model and the optimizer state
            after rewriting the labels. Default: False.
    """

    priority = 'LOW'

    def __init__(
        self,
        at_iters: Sequence[int],
        dataloader: dict,
        label_dir: Optional[str] = None,
        restrict_to_tags: bool = True,
        restart: bool = False,
        tags_file: Optional[str] = None,
    ) -> None:
        if not at_iters or any(int(i) <= 0 for i in at_iters):
            raise ValueError(
                f'at_iters must be positive iterations, got {at_iters}'
            )
        self.at_iters = sorted(int(i) for i in at_iters)
        self.dataloader_cfg = dataloader
        self.label_dir = label_dir
        self.restrict_to_tags = restrict_to_tags
        self.restart = restart
        self.tags = None
        if tags_file is not None:
            with open(tags_file) as f:
                self.tags = json.load(f)

    def before_train(self, runner) -> None:
        if self.label_dir is None:
            dataset = runner.train_dataloader.dataset
            prefix = getattr(dataset, 'data_prefix', {}) or {}
            if 'weak_path' not in prefix:
                raise ValueError(
                    'CyclicPseudoMaskHook: give label_dir, or train on a '
                    "dataset with data_prefix['weak_path'] (WeakSegDataset)"
                )
            self.label_dir = prefix['weak_path']
        if not osp.isdir(self.label_dir):
            raise FileNotFoundError(
                f'CyclicPseudoMaskHook: label_dir {self.label_dir} is not a '
                'folder'
            )

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        if runner.iter + 1 not in self.at_iters:
            return
        round_idx = self.at_iters.index(runner.iter + 1) + 1
        self.regenerate(runner, round_idx)
        if self.restart:
            self.reinitialise(runner)

    def regenerate(self, runner, round_idx: int) -> int:
        """Predict the training images and rewrite their label files.

        Returns:
            int: Number of files this rank wrote.
        """
        archive = osp.join(
            runner.work_dir,
            'cyclic_pseudo_masks',
            f'before_round_{round_idx}',
        )
        if dist.is_main_process():
            tmp = archive + '.tmp'
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(self.label_dir, tmp)
            shutil.rmtree(archive, ignore_errors=True)
            os.replace(tmp, archive)
        dist.barrier()
        loader = runner.build_dataloader(self.dataloader_cfg)
        model = runner.model
        palette = label_palette(
            loader.dataset.metainfo.get('palette') or [[0, 0, 0]]
        )
        written = 0
        bar = ProgressBar(len(loader)) if dist.is_main_process() else None
        runner.logger.info(
            f'cyclic pseudo-mask round {round_idx}: predicting '
            f'{len(loader.dataset)} training images into {self.label_dir}'
        )
        with eval_mode(model):
            for data in loader:
                for sample in model.test_step(data):
                    self._write(sample, palette)
                    written += 1
                if bar is not None:
                    bar.update()
        dist.barrier()
        runner.logger.info(
            f'cyclic pseudo-mask round {round_idx} done; previous labels '
            f'kept in {archive}'
        )
        return written

    def _write(self, sample, palette: list) -> None:
        scores = sample.seg_logits.data  # (C, H, W)
        name = osp.splitext(osp.basename(sample.img_path))[0]
        tags = sample.metainfo.get('img_tags')
        if self.tags is not None:
            if name not in self.tags:
                raise KeyError(f'the tags file has no tags for image {name}')
            tags = self.tags[name]
        if self.restrict_to_tags and tags is not None:
            allowed = torch.zeros(
                scores.shape[0], dtype=torch.bool, device=scores.device
            )
            allowed[0] = True
            allowed[list(tags)] = True
            scores = scores.masked_fill(~allowed[:, None, None], -torch.inf)
        label = scores.argmax(0).cpu().numpy().astype(np.uint8)
        save_label_png(osp.join(self.label_dir, name + '.png'), label, palette)

    @staticmethod
    def reinitialise(runner) -> None:
        """Fresh weights (identical on all ranks) and optimizer state."""
        model = runner.model
        module = model.module if is_model_wrapper(model) else model
        module.init_weights()
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)
        runner.optim_wrapper.optimizer.state.clear()
        runner.logger.info('cyclic pseudo-mask: model re-initialised')
