# Copyright (c) mmseg-spml contributors. All rights reserved.
"""A trained model and the training images, as the offline tools (CAMs,
pseudo labels, KNN memory, diagnostics) use them."""

from typing import List

from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.model import revert_sync_batchnorm
from mmengine.runner import load_checkpoint
from mmseg.registry import DATASETS, MODELS
from torch import nn


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
