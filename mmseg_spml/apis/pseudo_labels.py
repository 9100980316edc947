# Copyright (c) mmseg-spml contributors. All rights reserved.
"""What SPML's pseudo labels start from: a trained stage-1 model's
embedding and class probabilities, and the class scores the random walk
propagates (the classifier's, CAMs' or another model's)."""

import os.path as osp
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg_spml.pseudo_masks import cam_class_scores, load_cam_file
from mmseg_spml.refinement.crf import resize_map


@torch.no_grad()
def embed_and_score(
    model: torch.nn.Module, inputs: Tensor, flip: bool
) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """A stage-1 SPML model's view of one image.

    Args:
        model (SPMLEncoderDecoder): The trained model, in eval mode.
        inputs (Tensor): (1, 3, H, W) preprocessed image.
        flip (bool): Also embed the horizontally flipped image.

    Returns:
        tuple: Unit embeddings (D, h, w), class probabilities (C, h, w)
        and, with ``flip``, the embeddings (D, h, w) of the flipped image
        (else None).
    """
    head = model.decode_head
    emb = head.embed(model.extract_feat(inputs))
    probs = F.softmax(head.classify(emb), dim=1)[0]
    flipped = None
    if flip:
        flipped = head.embed(model.extract_feat(inputs.flip(3)))[0]
    return emb[0], probs, flipped


@torch.no_grad()
def seed_scores(
    plc: dict,
    name: str,
    data: dict,
    probs: Tensor,
    seed_model: Optional[torch.nn.Module],
) -> Tensor:
    """The class scores the walk propagates, (C, h, w) at the embedding
    resolution: the stage-1 classifier's probabilities ``probs``, or the
    CAMs of ``plc['cams']``, or the softmax of ``seed_model``.

    Args:
        plc (dict): The config's ``pseudo_label_cfg`` (``cams``,
            ``cam_bg_power``).
        name (str): The image's file stem (its CAM file's name).
        data (dict): The sample as the dataset gives it (``inputs``
            (3, H, W), ``data_samples``).
        probs (Tensor): (C, h, w) the stage-1 classifier's probabilities.
        seed_model (nn.Module, optional): A segmentor whose softmax seeds
            the walk instead.

    Raises:
        ValueError: If a CAM file is missing, unreadable or of another
            size than the image.
    """
    num_classes, size = probs.shape[0], tuple(probs.shape[1:])
    if plc['cams'] is not None:
        path = osp.join(plc['cams'], name + '.npz')
        cams, keys = load_cam_file(path)
        image_size = tuple(data['inputs'].shape[1:])
        if tuple(cams.shape[1:]) != image_size:
            raise ValueError(
                f'{path} has CAMs of size {tuple(cams.shape[1:])} but the '
                f'image has {image_size}'
            )
        scores = cam_class_scores(cams, keys, num_classes, plc['cam_bg_power'])
        return resize_map(scores, size)
    if seed_model is not None:
        sample = data['data_samples']
        batch = seed_model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[sample]), False
        )
        inputs = batch['inputs'].to(probs.device)
        logits = seed_model.encode_decode(inputs, [sample.metainfo])
        if logits.shape[1] != num_classes:
            raise ValueError(
                f'the seed model predicts {logits.shape[1]} classes, the '
                f'stage-1 model {num_classes}'
            )
        return resize_map(F.softmax(logits[0], dim=0), size)
    return probs
