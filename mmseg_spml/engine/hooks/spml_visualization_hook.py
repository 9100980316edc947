# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Draw SPML's visual diagnostics during training through the visualizer.

Every ``interval`` training iterations, the first ``max_images`` images of
the current batch are drawn as one strip each: image | embedding PCA
colours | k-means segments | superpixels | weak or pseudo label |
prediction (see :func:`mmseg_spml.engine.visualization.diagnostic_panel`). The
strips go to ``runner.visualizer.add_image``, so the configured
``vis_backends`` decide where they land (``vis_data/vis_image/`` of the
run's folder with ``LocalVisBackend``, TensorBoard's image tab with
``TensorboardVisBackend``, ...). To enable it in a config::

    custom_hooks = [dict(type='SPMLVisualizationHook', interval=100)]
    visualizer = dict(
        type='SegLocalVisualizer',
        vis_backends=[
            dict(type='LocalVisBackend'),
            dict(type='TensorboardVisBackend'),
        ],
    )
"""

from typing import Optional, Sequence

from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from mmseg_spml.engine.visualization import (
    check_spml_segmentor,
    render_diagnostics,
    resolve_palette,
    spml_diagnostics,
)


@HOOKS.register_module()
class SPMLVisualizationHook(Hook):
    """Write SPML diagnostics of training (and validation) images to the
    runner's visualizer.

    Images are named ``spml_train_<k>`` (the k-th image of the batch, step
    = the iteration just finished) and ``spml_val_<k>`` (the k-th image of
    a validation run, step = the training iteration it follows).
    Training segments are those of the SegSort loss (k-means clusters ∩
    weak label ∩ superpixel); validation segments are the k-means clusters
    alone, as at inference. The model runs in eval mode without gradients
    (its mode is restored), on the unwrapped module of a DDP model, and on
    rank 0 only: no collective operation is involved, so the other ranks
    simply go on.

    Args:
        interval (int): Draw after every ``interval``-th training
            iteration. Default: 100.
        max_images (int): Images drawn each time. Default: 2.
        draw_train (bool): Draw training batches. Default: True.
        draw_val (bool): Draw the first ``max_images`` images of each
            validation run. Default: False.
        kmeans_grid (Sequence[int], optional): k-means grid of the drawn
            segments. Default: the decode head's SegSort setting.
        kmeans_iters (int, optional): Default: the SegSort setting.
        alpha (float): Weight of colours drawn over the image.
            Default: 0.5.
        segment_style (str): ``'colours'`` or ``'boundaries'``.
            Default: 'colours'.
        superpixel_style (str): ``'colours'`` or ``'boundaries'``.
            Default: 'boundaries'.
        bgr (bool): The loaded images are BGR (OpenMMLab's
            ``LoadImageFromFile``). Default: True.
    """

    priority = 'LOW'

    def __init__(
        self,
        interval: int = 100,
        max_images: int = 2,
        draw_train: bool = True,
        draw_val: bool = False,
        kmeans_grid: Optional[Sequence[int]] = None,
        kmeans_iters: Optional[int] = None,
        alpha: float = 0.5,
        segment_style: str = 'colours',
        superpixel_style: str = 'boundaries',
        bgr: bool = True,
    ) -> None:
        if int(interval) < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if int(max_images) < 1:
            raise ValueError(f'max_images must be >= 1, got {max_images}')
        styles = ('colours', 'boundaries')
        for name, style in (
            ('segment_style', segment_style),
            ('superpixel_style', superpixel_style),
        ):
            if style not in styles:
                raise ValueError(f'{name} must be one of {styles}: {style!r}')
        if not 0 <= alpha <= 1:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        self.interval = int(interval)
        self.max_images = int(max_images)
        self.draw_train = draw_train
        self.draw_val = draw_val
        self.kmeans_grid = kmeans_grid
        self.kmeans_iters = kmeans_iters
        self.panel_cfg = dict(
            alpha=alpha,
            segment_style=segment_style,
            superpixel_style=superpixel_style,
        )
        self.bgr = bgr
        self._val_drawn = 0

    @staticmethod
    def _module(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_run(self, runner) -> None:
        # Fail at start-up, not after `interval` iterations.
        check_spml_segmentor(self._module(runner))

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        if not self.draw_train or data_batch is None:
            return
        if not self.every_n_train_iters(runner, self.interval):
            return
        if dist.is_main_process():
            self._draw(
                runner, data_batch, 'train', self.max_images, runner.iter + 1
            )

    def before_val_epoch(self, runner) -> None:
        self._val_drawn = 0

    def after_val_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        if not self.draw_val or data_batch is None:
            return
        left = self.max_images - self._val_drawn
        if left <= 0 or not dist.is_main_process():
            return
        self._val_drawn += self._draw(
            runner, data_batch, 'val', left, runner.iter, self._val_drawn
        )

    def _draw(
        self,
        runner,
        data_batch: dict,
        mode: str,
        max_images: int,
        step: int,
        first: int = 0,
    ) -> int:
        """Draw up to ``max_images`` images of the batch; returns how many
        were drawn."""
        module = self._module(runner)
        diags = spml_diagnostics(
            module,
            data_batch,
            max_images=max_images,
            intersect=mode == 'train',
            kmeans_grid=self.kmeans_grid,
            kmeans_iters=self.kmeans_iters,
            bgr=self.bgr,
        )
        samples = data_batch.get('data_samples') or [None] * len(diags)
        for k, (diag, sample) in enumerate(zip(diags, samples)):
            palette = resolve_palette(
                module.decode_head.num_classes,
                None if sample is None else sample.metainfo,
                getattr(runner.visualizer, 'dataset_meta', None),
                getattr(module, 'dataset_meta', None),
            )
            runner.visualizer.add_image(
                f'spml_{mode}_{first + k}',
                render_diagnostics(diag, palette, **self.panel_cfg),
                step=step,
            )
        return len(diags)
