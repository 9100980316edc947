# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPML's pseudo labels of training images from a trained stage-1 model
(``tools/make_pseudo_labels.py``): its embedding and class probabilities,
the class scores the random walk propagates (the classifier's, CAMs' or
another model's), and :class:`PseudoLabeler`, which chains them with the
refinement of :func:`~mmseg_spml.refinement.pseudo_labels.refine_pseudo_label`.
"""

import copy
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import BaseDataset
from torch import Tensor

from mmseg_spml.datasets.box_labels import Box, box_class_mask
from mmseg_spml.models.utils import preprocess_sample, tags_to_multi_hot
from mmseg_spml.pseudo_masks import cam_class_scores, load_cam_file
from mmseg_spml.refinement.crf import resize_map
from mmseg_spml.refinement.pseudo_labels import refine_pseudo_label

#: Defaults of a config's ``pseudo_label_cfg`` (the reference's random
#: walk, no CRF); see ``tools/make_pseudo_labels.py``.
PSEUDO_LABEL_DEFAULTS = dict(
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadWeakAnnotations'),
        dict(type='PackWeakSegInputs'),
    ],
    restrict_to_tags=True,
    random_walk=dict(beta=100.0, num_squarings=6),
    flip=True,
    crf=None,
    keep_weak_labels=True,
    cams=None,
    cam_bg_power=6.0,
    seed_model=None,
    boxes=None,
)


def pseudo_label_settings(
    pseudo_label_cfg: Optional[dict] = None, **overrides
) -> dict:
    """A config's ``pseudo_label_cfg`` over :data:`PSEUDO_LABEL_DEFAULTS`.

    Args:
        pseudo_label_cfg (dict, optional): The config's settings.
        **overrides: Settings that replace both where not None (the
            command line's ``cams``, ``boxes``, ``seed_model``).

    Returns:
        dict: Every key of :data:`PSEUDO_LABEL_DEFAULTS`.

    Raises:
        ValueError: For unknown keys, or both ``cams`` and ``seed_model``.
    """
    plc = dict(
        copy.deepcopy(PSEUDO_LABEL_DEFAULTS), **(pseudo_label_cfg or {})
    )
    plc.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(plc) - set(PSEUDO_LABEL_DEFAULTS))
    if unknown:
        raise ValueError(
            f'pseudo_label_cfg has unknown keys {unknown}; known: '
            f'{sorted(PSEUDO_LABEL_DEFAULTS)}'
        )
    if plc['cams'] is not None and plc['seed_model'] is not None:
        raise ValueError(
            'seed the walk with CAMs or a seed model, not both '
            f'(cams={plc["cams"]!r}, seed_model={plc["seed_model"]!r})'
        )
    return plc


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
        inputs = preprocess_sample(seed_model, data)
        logits = seed_model.encode_decode(
            inputs, [data['data_samples'].metainfo]
        )
        if logits.shape[1] != num_classes:
            raise ValueError(
                f'the seed model predicts {logits.shape[1]} classes, the '
                f'stage-1 model {num_classes}'
            )
        return resize_map(F.softmax(logits[0], dim=0), size)
    return probs


def image_tags_of(dataset: BaseDataset, num_classes: int) -> Dict[str, list]:
    """Every training image's stem and tags (all classes where the data
    set gives none), in the data set's order: the ``tags.json`` of a
    pseudo-label folder."""
    tags = {}
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        name = osp.splitext(osp.basename(info['img_path']))[0]
        tags[name] = sorted(info.get('img_tags', range(num_classes)))
    return tags


class PseudoLabeler:
    """SPML's pseudo label of one training image (appendix A.4).

    The stage-1 classifier's softmax (or the CAMs / the seed model's
    softmax of ``plc``), restricted to the image's tags and, with boxes,
    to the classes of the boxes covering each pixel, propagated by a
    random walk on the stage-1 embedding (flip-averaged), optionally
    refined by a dense CRF; annotated pixels keep their weak label.

    Args:
        model (nn.Module): The trained stage-1 SPML segmentor (with
            ``decode_head.embed``), in eval mode.
        plc (dict): :func:`pseudo_label_settings`.
        seed_model (nn.Module, optional): The segmentor of
            ``plc['seed_model']``, built by the caller.
        boxes (dict, optional): ``plc['boxes']`` as read by
            ``load_boxes_file`` (name -> boxes).

    Raises:
        ValueError: If ``model`` has no SPML decode head.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        plc: dict,
        seed_model: Optional[torch.nn.Module] = None,
        boxes: Optional[Dict[str, List[Box]]] = None,
    ) -> None:
        if not hasattr(model.decode_head, 'embed'):
            raise ValueError('the model has no SPML decode head (embed())')
        self.model = model
        self.plc = plc
        self.seed_model = seed_model
        self.boxes = boxes
        self.num_classes = model.decode_head.num_classes

    @torch.no_grad()
    def __call__(self, name: str, data: dict) -> np.ndarray:
        """The pseudo label of one image.

        Args:
            name (str): The image's file stem (CAM file, boxes entry).
            data (dict): The sample as the data set gives it (``inputs``
                (3, H, W) BGR, ``data_samples``).

        Returns:
            np.ndarray: uint8 (H, W) class ids.

        Raises:
            ValueError: If the image's CAM file or boxes are missing or do
                not fit (the message names the file).
        """
        model, plc = self.model, self.plc
        sample = data['data_samples']
        inputs = preprocess_sample(model, data)
        emb, probs, flipped = embed_and_score(model, inputs, plc['flip'])
        h, w = data['inputs'].shape[1:]
        probs = seed_scores(plc, name, data, probs, self.seed_model)
        allowed = None
        if self.boxes is not None:
            if name not in self.boxes:
                raise ValueError(
                    f'{plc["boxes"]} has no boxes for image {name}'
                )
            allowed = torch.from_numpy(
                box_class_mask((h, w), self.boxes[name], self.num_classes)
            )
        present = torch.ones(self.num_classes, dtype=torch.bool)
        if plc['restrict_to_tags']:
            present = tags_to_multi_hot([sample], self.num_classes)[0]
        weak = None
        if plc['keep_weak_labels'] and 'gt_sem_seg' in sample:
            weak = sample.gt_sem_seg.data[0]
        label = refine_pseudo_label(
            probs.cpu(),
            emb.cpu(),
            present,
            data['inputs'].flip(0).float(),  # BGR -> RGB
            flip_embeddings=None if flipped is None else flipped.cpu(),
            random_walk_cfg=plc['random_walk'],
            crf_cfg=plc['crf'],
            weak_label=weak,
            allowed=allowed,
        )
        return label[:h, :w].numpy().astype(np.uint8)
