# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Multi-label image classifier whose class activation maps (CAMs) seed
pseudo masks for image-tag and box supervision (SPML appendix A.2, PMM)."""

from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor, nn

from ..utils import tags_to_multi_hot

#: IRN's and PMM's Pascal VOC CAM inference scales (with flips): up-scaled
#: views give CAMs finer than the backbone's output stride.
IRN_CAM_SCALES = (1.0, 0.5, 1.5, 2.0)


def cam_test_settings(test_cfg: Optional[dict]) -> dict:
    """The CAM inference views a CAMClassifier's ``test_cfg`` asks for.

    ``scales`` are the image scales whose CAMs are averaged (default:
    :data:`IRN_CAM_SCALES`, for images of Pascal VOC's size; a data set of
    much smaller or larger images sets its own), ``flip`` whether each
    view's horizontal flip is averaged too (default: True, as IRN).

    Args:
        test_cfg (dict, optional): ``dict(scales=..., flip=...)``, either
            key optional.

    Returns:
        dict: ``scales`` (tuple[float], each > 0) and ``flip`` (bool).

    Raises:
        ValueError: If ``test_cfg`` has another key, ``scales`` is empty or
            holds a value that is not a positive number, or ``flip`` is not
            a bool.
    """
    test_cfg = dict(test_cfg or {})
    unknown = sorted(set(test_cfg) - {'scales', 'flip'})
    if unknown:
        raise ValueError(
            f'CAMClassifier test_cfg has the unknown keys {unknown}; it '
            'takes scales and flip'
        )
    scales = test_cfg.get('scales', IRN_CAM_SCALES)
    if isinstance(scales, (int, float)) or not scales:
        raise ValueError(
            'CAMClassifier test_cfg.scales must be a non-empty list of '
            f'positive scale factors, got {scales!r}'
        )
    for scale in scales:
        if isinstance(scale, bool) or not isinstance(scale, (int, float)):
            raise ValueError(
                'CAMClassifier test_cfg.scales must hold numbers, got '
                f'{scale!r} in {scales!r}'
            )
        if scale <= 0:
            raise ValueError(
                'CAMClassifier test_cfg.scales must be positive, got '
                f'{scale} in {scales!r}'
            )
    flip = test_cfg.get('flip', True)
    if not isinstance(flip, bool):
        raise ValueError(
            f'CAMClassifier test_cfg.flip must be True or False, got {flip!r}'
        )
    return dict(scales=tuple(float(s) for s in scales), flip=flip)


def image_tag_targets(
    data_samples: SampleList, num_classes: int, device=None
) -> Tensor:
    """Multi-hot foreground targets from ``metainfo['img_tags']``.

    Args:
        data_samples (list[SegDataSample]): Samples with ``img_tags`` (class
            ids, background 0 included or not).
        num_classes (int): Number of classes C, background included.

    Returns:
        Tensor: (N, C - 1) float targets of the foreground classes.
    """
    tags = tags_to_multi_hot(
        data_samples, num_classes, device, required_by='CAMClassifier'
    )
    return tags[:, 1:].float()


@MODELS.register_module()
class CAMClassifier(BaseSegmentor):
    """Global-average-pooled 1x1 classifier on any MMSeg backbone, trained
    from image tags with the multi-label soft-margin loss; its CAMs are the
    classifier applied at every position of the feature map.

    ``predict`` turns the CAMs into segmentation scores so that MMSeg's
    validation and test loops evaluate the CAM seeds, from the views
    ``tools/make_cams.py`` writes the CAMs of (``test_cfg``, by default
    IRN's four scales and flips): each foreground class
    is divided by its maximum over the image (Ahn & Kwak, 2018), classes
    absent from the image are zeroed, and the background score is
    ``(1 - max_c cam_c) ** bg_power`` (SPML appendix A.2). The classes of an
    image are its ``img_tags`` when the test pipeline provides them (the
    usual case when seeding pseudo labels), else those the classifier
    scores above 0.5.

    Args:
        backbone (dict): Backbone config.
        num_classes (int): Number of classes C, background included (the
            classifier has C - 1 outputs).
        in_channels (int): Channels of the classified feature map.
        in_index (int): Which backbone output is classified. Default: -1.
        bg_power (float): alpha of the background score. Default: 6
            (SPML appendix A.2).
        loss_weight (float): Weight of the classification loss.
            Default: 1.0.
        align_corners (bool): Of the CAM upsampling. Default: False.
        test_cfg (dict, optional): The CAM inference views,
            ``dict(scales=..., flip=...)`` (:func:`cam_test_settings`).
            Default: IRN's scales 1, 0.5, 1.5 and 2 with flips.
        data_preprocessor (dict, optional): Data preprocessor config.
        pretrained (str, optional): Backbone checkpoint.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        backbone: ConfigType,
        num_classes: int,
        in_channels: int,
        in_index: int = -1,
        bg_power: float = 6.0,
        loss_weight: float = 1.0,
        align_corners: bool = False,
        test_cfg: OptConfigType = None,
        data_preprocessor: OptConfigType = None,
        pretrained: Optional[str] = None,
        init_cfg: OptMultiConfig = None,
    ) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg
        )
        if num_classes < 2:
            raise ValueError(
                f'num_classes must count background and at least one '
                f'foreground class, got {num_classes}'
            )
        if pretrained is not None:
            backbone = dict(backbone, pretrained=pretrained)
        self.backbone = MODELS.build(backbone)
        self.num_classes = num_classes
        self.in_index = in_index
        self.bg_power = bg_power
        self.loss_weight = loss_weight
        self.align_corners = align_corners
        self.test_cfg = cam_test_settings(test_cfg)
        self.classifier = nn.Conv2d(
            in_channels, num_classes - 1, 1, bias=False
        )

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """(N, in_channels, h, w) features of the classified level."""
        return self.backbone(inputs)[self.in_index]

    def cams(self, inputs: Tensor) -> Tensor:
        """Raw class activation maps (ReLU of the classifier at every
        position).

        Args:
            inputs (Tensor): (N, 3, H, W) normalised images.

        Returns:
            Tensor: (N, C - 1, h, w) non-negative CAMs of the foreground
            classes at the feature resolution.
        """
        return F.relu(self.classifier(self.extract_feat(inputs)))

    def multi_scale_cams(
        self,
        inputs: Tensor,
        scales: Optional[Sequence[float]] = None,
        flip: Optional[bool] = None,
    ) -> Tensor:
        """CAMs averaged over rescaled (and flipped) views of the inputs.

        Args:
            inputs (Tensor): (N, 3, H, W) normalised images.
            scales (Sequence[float], optional): Scale factors of the views.
                Default: ``test_cfg['scales']``.
            flip (bool, optional): Also average each view's horizontal
                flip. Default: ``test_cfg['flip']``.

        Returns:
            Tensor: (N, C - 1, H, W) non-negative CAMs at the input size
            (not normalised).
        """
        scales = self.test_cfg['scales'] if scales is None else scales
        flip = self.test_cfg['flip'] if flip is None else flip
        n, size = inputs.shape[0], inputs.shape[2:]
        total = 0
        for scale in scales:
            x = F.interpolate(
                inputs,
                scale_factor=scale,
                mode='bilinear',
                align_corners=self.align_corners,
            )
            cams = self.cams(torch.cat([x, x.flip(3)]) if flip else x)
            cams = F.interpolate(
                cams,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners,
            )
            if flip:
                cams = cams[:n] + cams[n:].flip(3)
            total = total + cams
        return total / (len(scales) * (2 if flip else 1))

    def _forward(
        self, inputs: Tensor, data_samples: SampleList = None
    ) -> Tensor:
        """(N, C - 1) image-level class logits."""
        feats = self.extract_feat(inputs)
        return self.classifier(feats.mean((2, 3), keepdim=True)).flatten(1)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        logits = self._forward(inputs)
        targets = image_tag_targets(
            data_samples, self.num_classes, logits.device
        )
        loss = F.multilabel_soft_margin_loss(logits, targets)
        with torch.no_grad():
            acc = ((logits > 0).float() == targets).float().mean() * 100
        return dict(loss_cls=self.loss_weight * loss, acc_tags=acc)

    def encode_decode(
        self, inputs: Tensor, batch_img_metas: List[dict]
    ) -> Tensor:
        """Segmentation scores from the CAMs of the ``test_cfg`` views.

        Returns:
            Tensor: (N, C, H, W): background score, then the normalised
            CAMs of the image's classes (0 for the others), at the input
            resolution.
        """
        cams = self.multi_scale_cams(inputs)
        present = torch.zeros(
            cams.shape[:2], dtype=torch.bool, device=cams.device
        )
        logits = None
        for i, meta in enumerate(batch_img_metas):
            if 'img_tags' in meta:
                tags = [t - 1 for t in meta['img_tags'] if t > 0]
                present[i, tags] = True
            else:
                if logits is None:
                    logits = self._forward(inputs)
                present[i] = logits[i] > 0
        peak = cams.flatten(2).amax(2).clamp(min=1e-5)
        cams = cams / peak[:, :, None, None] * present[:, :, None, None]
        background = (1 - cams.amax(1, keepdim=True)).pow(self.bg_power)
        return torch.cat([background, cams], dim=1)

    def predict(
        self, inputs: Tensor, data_samples: SampleList = None
    ) -> SampleList:
        """CAM seeds as segmentation results: ``seg_logits`` holds the
        (C, H, W) scores of :meth:`encode_decode` (not logits: background
        score and normalised CAMs), ``pred_sem_seg`` their argmax."""
        if data_samples is not None:
            metas = [s.metainfo for s in data_samples]
        else:
            metas = [
                dict(
                    ori_shape=inputs.shape[2:],
                    img_shape=inputs.shape[2:],
                    pad_shape=inputs.shape[2:],
                    padding_size=[0, 0, 0, 0],
                )
            ] * inputs.shape[0]
        scores = self.encode_decode(inputs, metas)
        return self.postprocess_result(scores, data_samples)
