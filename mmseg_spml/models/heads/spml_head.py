# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPML embedding heads on MMSeg's ASPP (DeepLabV3) and PSP (PSPNet) heads.

The head turns the usual decode features into unit pixel embeddings (64-d
by default, upsampled to stride 4 as in the reference), trains them with
:class:`SegSortLoss`, and trains a softmax classifier on the *detached*
embeddings (its cross-entropy is not scaled by any relation weight) that
gives the class scores for prediction and pseudo labels.
"""

from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.structures import PixelData
from mmseg.models.decode_heads import (
    ASPPHead,
    DepthwiseSeparableASPPHead,
    PSPHead,
)
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, SampleList
from torch import Tensor, nn

from ..utils import downsample_weak_labels, tags_to_multi_hot


class SPMLHeadMixin:
    """Embedding, classifier and losses shared by the SPML heads.

    Subclasses call :meth:`_init_spml` after their MMSeg parent's
    ``__init__`` and provide ``_forward_feature``.
    """

    def _init_spml(
        self,
        embed_dim: int,
        upsample_ratio: int,
        segsort: Optional[ConfigType],
    ) -> None:
        self.embed_dim = embed_dim
        self.upsample_ratio = upsample_ratio
        self.embed_conv = nn.Conv2d(self.channels, embed_dim, 1)
        self.cls_conv = ConvModule(
            embed_dim,
            2 * embed_dim,
            3,
            padding=1,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        # BaseDecodeHead.cls_seg = dropout + conv_seg: the classifier's end.
        self.conv_seg = nn.Conv2d(2 * embed_dim, self.out_channels, 1)
        # None: only the classifier learns (SPML's stage 2, frozen
        # embedding trained on pseudo labels).
        self.segsort = (
            None
            if segsort is None
            else MODELS.build(dict(segsort, num_classes=self.num_classes))
        )

    def classifier_modules(self) -> List[nn.Module]:
        """The modules of the softmax classifier (the rest of the head
        computes the embedding)."""
        modules = [self.cls_conv, self.conv_seg]
        if self.dropout is not None:
            modules.append(self.dropout)
        return modules

    def embed(self, inputs: List[Tensor]) -> Tensor:
        """Unit pixel embeddings (N, D, H', W') at the head's stride
        divided by ``upsample_ratio``."""
        emb = self.embed_conv(self._forward_feature(inputs))
        if self.upsample_ratio > 1:
            emb = F.interpolate(
                emb,
                scale_factor=self.upsample_ratio,
                mode='bilinear',
                align_corners=self.align_corners,
            )
        return F.normalize(emb, dim=1)

    def classify(self, embeddings: Tensor) -> Tensor:
        """Class logits (N, C, H', W') from detached embeddings."""
        return self.cls_seg(self.cls_conv(embeddings.detach()))

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Class logits, for prediction."""
        return self.classify(self.embed(inputs))

    def _targets(
        self, samples: SampleList, size: Tuple[int, int]
    ) -> Tuple[Tensor, ...]:
        """Weak labels (N, H, W) at full and embedding resolution,
        superpixels at embedding resolution (or None) and multi-hot tags
        (N, C).

        The labels reach the embedding resolution by
        :func:`downsample_weak_labels`, which keeps every labelled pixel
        (nearest sampling would drop clicks smaller than the stride).
        """
        labels = torch.stack([s.gt_sem_seg.data for s in samples]).long()
        small = downsample_weak_labels(labels[:, 0], size, self.num_classes)
        superpixels = None
        if all('gt_superpixel' in s for s in samples):
            sp = torch.stack([s.gt_superpixel.data for s in samples])
            superpixels = (
                F.interpolate(sp.float(), size=size, mode='nearest')
                .long()
                .squeeze(1)
            )
        tags = tags_to_multi_hot(
            samples, self.num_classes, labels.device, 'SPML'
        ).float()
        return labels.squeeze(1), small, superpixels, tags

    def loss(
        self,
        inputs: List[Tensor],
        batch_data_samples: SampleList,
        train_cfg: ConfigType,
    ) -> Dict[str, Tensor]:
        """SegSort losses on the embeddings plus the classifier's CE."""
        return self.loss_by_feat(self.embed(inputs), batch_data_samples)

    def loss_by_feat(
        self, embeddings: Tensor, batch_data_samples: SampleList
    ) -> Dict[str, Tensor]:
        """The SegSort losses of ``embeddings`` (N, D, H', W') and, through
        MMSeg's :meth:`BaseDecodeHead.loss_by_feat`, the classifier's
        ``loss_decode`` and ``acc_seg`` on the weak labels with unlabelled
        pixels set to ``ignore_index``.

        The config's ``loss_decode`` (one loss or a list), ``sampler`` and
        ``ignore_index`` therefore act as in any MMSeg head, on the
        classifier; the SegSort loss reads the weak labels in the
        package's encoding (254 unlabelled, 255 void).
        """
        labels, small, superpixels, tags = self._targets(
            batch_data_samples, embeddings.shape[2:]
        )
        losses = {}
        if self.segsort is not None:
            losses = self.segsort(
                embeddings, small, tags.to(embeddings.dtype), superpixels
            )
        target = labels.masked_fill(
            labels >= self.num_classes, self.ignore_index
        )
        samples = [
            SegDataSample(
                gt_sem_seg=PixelData(data=target[i : i + 1]),
                metainfo=sample.metainfo,
            )
            for i, sample in enumerate(batch_data_samples)
        ]
        losses.update(super().loss_by_feat(self.classify(embeddings), samples))
        return losses


@MODELS.register_module()
class SPMLASPPHead(SPMLHeadMixin, ASPPHead):
    """SPML embedding head on DeepLabV3's ASPP.

    Example:
        >>> decode_head = dict(
        ...     type='SPMLASPPHead', in_channels=2048, in_index=3,
        ...     channels=512, dilations=(1, 12, 24, 36), num_classes=21,
        ...     embed_dim=64, dropout_ratio=0.65,
        ...     segsort=dict(type='SegSortLoss', relations=[
        ...         dict(type='SemanticAnnotation', concentration=6)]))

    Args:
        embed_dim (int): Embedding dimension. Default: 64.
        upsample_ratio (int): Upsampling of the embeddings (2: stride 8 to
            4, as the reference). Default: 2.
        segsort (dict, optional): :class:`SegSortLoss` config
            (``num_classes`` is filled in from the head); None trains the
            classifier only (stage 2).
        **kwargs: :class:`ASPPHead` / ``BaseDecodeHead`` arguments;
            ``loss_decode`` is the classifier's loss.
    """

    def __init__(
        self,
        segsort: Optional[ConfigType],
        embed_dim: int = 64,
        upsample_ratio: int = 2,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self._init_spml(embed_dim, upsample_ratio, segsort)


@MODELS.register_module()
class SPMLSepASPPHead(SPMLHeadMixin, DepthwiseSeparableASPPHead):
    """SPML embedding head on DeepLabV3+'s decoder: depthwise separable
    ASPP on the deepest features, fused with the stride-4 features of
    ``inputs[0]`` (``c1_in_channels``), so the embedding has stride 4, as
    the reference's (there: stride-8 ASPP upsampled x2), with detail from
    the low-level features instead of interpolation.

    Example:
        >>> decode_head = dict(
        ...     type='SPMLSepASPPHead', in_channels=2048, in_index=3,
        ...     channels=512, dilations=(1, 12, 24, 36), c1_in_channels=256,
        ...     c1_channels=48, num_classes=21, embed_dim=64,
        ...     upsample_ratio=1, segsort=dict(type='SegSortLoss', ...))

    Args:
        embed_dim (int): Embedding dimension. Default: 64.
        upsample_ratio (int): Upsampling of the embeddings after the
            decoder (already at the stride of ``inputs[0]``). Default: 1.
        segsort (dict, optional): :class:`SegSortLoss` config; None
            trains the classifier only.
        **kwargs: :class:`DepthwiseSeparableASPPHead` arguments
            (``c1_in_channels``, ``c1_channels``, ...).
    """

    def __init__(
        self,
        segsort: Optional[ConfigType],
        embed_dim: int = 64,
        upsample_ratio: int = 1,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self._init_spml(embed_dim, upsample_ratio, segsort)

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        """Decoder features (N, channels, H/4, W/4): ASPP, then the fusion
        with the low-level features (DeepLabV3+)."""
        feats = ASPPHead._forward_feature(self, inputs)
        if self.c1_bottleneck is not None:
            c1 = self.c1_bottleneck(inputs[0])
            feats = resize(
                feats,
                size=c1.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners,
            )
            feats = torch.cat([feats, c1], dim=1)
        return self.sep_bottleneck(feats)


@MODELS.register_module()
class SPMLPSPHead(SPMLHeadMixin, PSPHead):
    """SPML embedding head on PSPNet's pyramid pooling (DensePose setting:
    ``embed_dim=32``).

    Args:
        embed_dim (int): Embedding dimension. Default: 32.
        upsample_ratio (int): Upsampling of the embeddings. Default: 2.
        segsort (dict, optional): :class:`SegSortLoss` config; None
            trains the classifier only.
        **kwargs: :class:`PSPHead` / ``BaseDecodeHead`` arguments.
    """

    def __init__(
        self,
        segsort: Optional[ConfigType],
        embed_dim: int = 32,
        upsample_ratio: int = 2,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self._init_spml(embed_dim, upsample_ratio, segsort)
