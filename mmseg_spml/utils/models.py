# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Build what the offline tools (CAMs, pseudo labels, KNN memory,
diagnostics) run: their command line, the config, a trained model and the
training images with a tool's own pipeline."""

import argparse
from contextlib import contextmanager
from typing import Iterator, List

import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import BaseDataset
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import DATASETS, MODELS
from torch import nn

from .cli import doc_parser


def trained_model_parser(
    doc: str, config_help: str, out_help: str
) -> argparse.ArgumentParser:
    """The command line every offline tool over a trained model shares:
    ``CONFIG CHECKPOINT --out OUT [--device D] [--cfg-options ...]``, with
    the description and examples of the tool's module docstring ``doc``.
    The device defaults to CUDA when available."""
    parser = doc_parser(doc)
    parser.add_argument('config', help=config_help)
    parser.add_argument('checkpoint', help='its trained weights')
    parser.add_argument('--out', required=True, help=out_help)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value)',
    )
    return parser


def load_tool_config(args: argparse.Namespace) -> Config:
    """``args.config`` with ``args.cfg_options`` merged, its default scope
    initialised."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def build_trained_model(
    cfg: Config, checkpoint: str, device: str
) -> nn.Module:
    """The config's model with SyncBN as BN (one process), the weights of
    ``checkpoint``, in eval mode on ``device``."""
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    load_checkpoint(model, checkpoint, map_location='cpu')
    return model.to(device).eval()


def training_images(cfg: Config, pipeline: List[dict]) -> BaseDataset:
    """The config's training set, read with ``pipeline``."""
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg.pipeline = pipeline
    return DATASETS.build(dataset_cfg)


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and no gradients inside; the previous mode after, also
    when the block raises."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
