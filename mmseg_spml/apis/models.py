# Copyright (c) mmseg-spml contributors. All rights reserved.
"""A trained model and the training images, as the offline tools (CAMs,
pseudo labels, KNN memory, diagnostics, the image demo) use them: one
builder, one checkpoint loader."""

import copy
import pickle
import warnings
from typing import List, Optional, Union

from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import DATASETS, MODELS
from torch import nn

from ..engine.visualization import default_palette


def _matching(meta: Optional[dict], num_classes: Optional[int]) -> bool:
    """Whether ``meta`` has classes and palette for ``num_classes``."""
    if not meta or not meta.get('classes') or not meta.get('palette'):
        return False
    n = len(meta['classes'])
    return n == len(meta['palette']) and num_classes in (None, n)


def resolve_dataset_meta(
    model: nn.Module, checkpoint_meta: dict, cfg: Config
) -> dict:
    """Class names and palette to draw ``model``'s predictions with.

    In order: the checkpoint's ``dataset_meta`` (written by the MMEngine
    Runner); its ``CLASSES``/``PALETTE`` (MMSeg 0.x); the ``METAINFO`` of
    the config's test (or val) data set class; generic names ``class0`` ...
    with a fixed random palette. Unlike ``mmseg.apis.init_model``'s
    fallback, a data set is never guessed from the number of classes alone
    (7 classes would be drawn with LoveDA's names).

    Args:
        model (nn.Module): The segmentor; the ``num_classes`` of its decode
            head (or its own, for a classifier) is checked against the
            names found.
        checkpoint_meta (dict): The checkpoint's ``meta`` (may be empty).
        cfg (Config): The model's config.

    Returns:
        dict: ``classes`` (list of str) and ``palette`` (list of RGB
        triples), of the model's number of classes.

    Raises:
        ValueError: If no names are found and the model does not say how
            many classes it has.
    """
    head = getattr(model, 'decode_head', model)
    num_classes = getattr(head, 'num_classes', None)
    candidates = [checkpoint_meta.get('dataset_meta')]
    if 'CLASSES' in checkpoint_meta:
        candidates.append(
            dict(
                classes=checkpoint_meta['CLASSES'],
                palette=checkpoint_meta.get('PALETTE'),
            )
        )
    for split in ('test_dataloader', 'val_dataloader'):
        dataset_type = cfg.get(split, {}).get('dataset', {}).get('type')
        if isinstance(dataset_type, str) and DATASETS.get(dataset_type):
            dataset_cls = DATASETS.get(dataset_type)
            candidates.append(getattr(dataset_cls, 'METAINFO', None))
    for meta in candidates:
        if _matching(meta, num_classes):
            return dict(
                classes=list(meta['classes']),
                palette=[list(c) for c in meta['palette']],
            )
    if num_classes is None:
        raise ValueError(
            'neither the checkpoint nor the config name the classes, and '
            'the model has no num_classes'
        )
    warnings.warn(
        "neither the checkpoint nor the config name the model's "
        f'{num_classes} classes; drawing class0..class{num_classes - 1}',
        stacklevel=2,
    )
    return dict(
        classes=[f'class{i}' for i in range(num_classes)],
        palette=default_palette(num_classes),
    )


def load_trained_weights(model: nn.Module, checkpoint: str) -> dict:
    """Load ``checkpoint`` into ``model`` with MMEngine's loader.

    MMEngine reads it with ``torch.load(weights_only=True)`` and the
    package's allow-list (``mmseg_spml.utils.checkpoint``); an MMEngine
    checkpoint and a plain state dict both load.

    Args:
        model (nn.Module): The model to fill.
        checkpoint (str): Path of the ``.pth`` file.

    Returns:
        dict: The checkpoint's ``meta`` (empty for a plain state dict).

    Raises:
        ValueError: If the file cannot be read as a checkpoint.
    """
    try:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
    except (RuntimeError, KeyError, EOFError, pickle.UnpicklingError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ''
        raise ValueError(
            'not a checkpoint that torch.load(weights_only=True) can read '
            f'({type(e).__name__}: {reason})'
        ) from e
    return (ckpt.get('meta') or {}) if isinstance(ckpt, dict) else {}


def build_trained_model(
    config: Union[str, Config],
    checkpoint: str,
    device: str = 'cpu',
    cfg_options: Optional[dict] = None,
) -> nn.Module:
    """The config's model with the weights of ``checkpoint``, for inference.

    Unlike ``mmseg.apis.init_model(config, checkpoint)``, a plain state
    dict loads (``init_model`` reads ``checkpoint['meta']``), models
    without a ``train_cfg`` argument (``CAMClassifier``) build, and class
    names are never guessed from their number
    (:func:`resolve_dataset_meta`). SyncBN layers become plain BN, which
    computes the same in inference and needs no process group. The result
    carries ``cfg`` and ``dataset_meta``, as ``init_model``'s does, so
    ``mmseg.apis.inference_model`` accepts it.

    Args:
        config (str | Config): Config file or config (not modified).
        checkpoint (str): MMEngine checkpoint or plain state dict.
        device (str): E.g. ``'cpu'`` or ``'cuda:0'``. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Config overrides.

    Returns:
        nn.Module: The model in eval mode on ``device``.

    Raises:
        ValueError: If ``checkpoint`` cannot be read as a checkpoint.
    """
    if isinstance(config, str):
        cfg = Config.fromfile(config)
    else:
        cfg = copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    meta = load_trained_weights(model, checkpoint)
    model.cfg = cfg
    model.dataset_meta = resolve_dataset_meta(model, meta, cfg)
    return model.to(device).eval()


def training_images(cfg: Config, pipeline: List[dict]) -> BaseDataset:
    """The config's training set, read with ``pipeline``."""
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg.pipeline = pipeline
    return DATASETS.build(dataset_cfg)
