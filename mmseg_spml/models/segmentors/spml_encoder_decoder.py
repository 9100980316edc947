# Copyright (c) mmseg-spml contributors. All rights reserved.
"""EncoderDecoder for weak labels: auxiliary CE heads see unlabelled
pixels as void."""

from typing import Dict, List, Optional, Tuple

import mmcv
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor, nn

from mmseg_spml.label_encoding import IGNORE_INDEX
from mmseg_spml.refinement import (
    dense_crf_downsampled,
    knn_segment_scores,
    load_memory,
)


def unlabelled_as_void(samples: SampleList, num_classes: int) -> SampleList:
    """Copies of the data samples with labels ``>= num_classes`` set to 255
    (plain cross-entropy heads know only one ignore value)."""
    out = []
    for sample in samples:
        data = sample.gt_sem_seg.data
        copy = sample.clone()
        # A new PixelData: clone() shares the nested fields.
        copy.gt_sem_seg = PixelData(
            data=data.masked_fill(data >= num_classes, IGNORE_INDEX)
        )
        out.append(copy)
    return out


@MODELS.register_module()
class SPMLEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` whose data samples carry weak labels.

    The decode head (an SPML head) gets the samples as they are: weak
    labels with 254 = unlabelled, superpixels and image tags. Auxiliary
    heads of the base config (e.g. DeepLabV3's FCN head) get copies where
    unlabelled pixels are void, so they train as partial cross-entropy on
    the labelled pixels instead of failing on the value 254. Prediction is
    the decode head's classifier, as in ``EncoderDecoder``.

    With ``freeze_embedding=True`` (SPML's stage 2: a softmax classifier
    trained on pseudo labels over the *fixed* stage-1 embedding, loaded
    with ``load_from``), the backbone, neck and the embedding part of the
    decode head get ``requires_grad=False`` and stay in eval mode (their
    BN statistics too); only the head's classifier learns.

    With ``knn``, prediction is SPML's segment retrieval instead of the
    classifier: the test image's embedding is clustered (spherical k-means
    on ``[embedding; xy]``), each cluster votes with its ``k`` nearest
    prototypes of a memory built from *training images and their weak or
    pseudo labels* (``tools/build_knn_memory.py``), and the vote shares,
    as log-probabilities, are the ``seg_logits`` (so ``SegTTAModel``'s
    softmax averaging applies unchanged).

    Args:
        freeze_embedding (bool): Freeze everything but the classifier.
            Default: False.
        crf (dict, optional): Refine every prediction with a dense CRF on
            the original image (read from ``img_path``), at up to
            ``max_pixels`` pixels (:func:`dense_crf_downsampled`; other keys
            are :func:`dense_crf` arguments). With TTA, use
            :class:`SPMLTTAModel`, which merges the views first and refines
            the merged prediction once. Default: None (no CRF).
        knn (dict, optional): KNN prediction: ``memory`` (path of the
            memory file) and keyword arguments of
            :func:`~mmseg_spml.refinement.knn_segment_scores` (``k``,
            ``grid``, ``num_iters``, ``soft``, ``temperature``...).
            Default: None (the classifier predicts).
        **kwargs: ``EncoderDecoder`` arguments.
    """

    def __init__(
        self,
        freeze_embedding: bool = False,
        knn: Optional[dict] = None,
        crf: Optional[dict] = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.crf_cfg = None if crf is None else dict(crf)
        self.knn_cfg = None if knn is None else dict(knn)
        if self.knn_cfg is not None and 'memory' not in self.knn_cfg:
            raise ValueError('knn needs memory=<path of a memory file>')
        self._knn_memory = None
        self.freeze_embedding = freeze_embedding
        if freeze_embedding:
            if self.with_auxiliary_head:
                raise ValueError(
                    'freeze_embedding trains the classifier only: set '
                    'auxiliary_head=None'
                )
            trainable = {
                id(p)
                for m in self.decode_head.classifier_modules()
                for p in m.parameters()
            }
            for param in self.parameters():
                param.requires_grad_(id(param) in trainable)

    def train(self, mode: bool = True) -> 'SPMLEncoderDecoder':
        super().train(mode)
        if self.freeze_embedding and mode:
            for module in self.frozen_modules():
                module.eval()
        return self

    def frozen_modules(self) -> List[nn.Module]:
        """Modules kept in eval mode with ``freeze_embedding``: all but the
        classifier's and their parents (this model, the decode head)."""
        keep = {id(self), id(self.decode_head)} | {
            id(sub)
            for m in self.decode_head.classifier_modules()
            for sub in m.modules()
        }
        return [m for m in self.modules() if id(m) not in keep]

    def _auxiliary_head_forward_train(
        self, inputs, data_samples: SampleList
    ) -> Dict[str, Tensor]:
        return super()._auxiliary_head_forward_train(
            inputs, unlabelled_as_void(data_samples, self.num_classes)
        )

    def knn_memory(self, device) -> Tuple[Tensor, Tensor]:
        """The (M, D) prototypes and (M, ) labels of the KNN memory, read
        once from ``knn['memory']``."""
        if self._knn_memory is None:
            protos, labels, _ = load_memory(self.knn_cfg['memory'])
            self._knn_memory = (protos, labels)
        protos, labels = self._knn_memory
        return protos.to(device), labels.to(device)

    def encode_decode(
        self, inputs: Tensor, batch_img_metas: List[dict]
    ) -> Tensor:
        """Class scores (N, C, H, W) at the input size: the classifier's
        logits, or with ``knn`` the log vote shares."""
        if self.knn_cfg is None:
            return super().encode_decode(inputs, batch_img_metas)
        emb = self.decode_head.embed(self.extract_feat(inputs))
        protos, labels = self.knn_memory(emb.device)
        options = {k: v for k, v in self.knn_cfg.items() if k != 'memory'}
        votes = knn_segment_scores(
            emb, protos, labels, self.num_classes, **options
        )
        shares = votes / votes.sum(1, keepdim=True).clamp(min=1e-12)
        logits = torch.log(shares.clamp(min=1e-6))
        return F.interpolate(
            logits,
            size=batch_img_metas[0]['img_shape'],
            mode='bilinear',
            align_corners=self.align_corners,
        )

    def postprocess_result(
        self, seg_logits: Tensor, data_samples: SampleList = None
    ) -> SampleList:
        """MMSeg's results, refined by the dense CRF when ``crf`` is set
        (``seg_logits`` become the log of the refined probabilities)."""
        samples = super().postprocess_result(seg_logits, data_samples)
        if self.crf_cfg is None or data_samples is None:
            return samples
        return self.refine_with_crf(samples)

    def refine_with_crf(self, samples: SampleList) -> SampleList:
        """Refine the samples' ``seg_logits`` (C, H, W), at the size of the
        original image, with the dense CRF of ``crf`` on that image (read
        from ``img_path``); ``seg_logits`` become the log of the refined
        probabilities, ``pred_sem_seg`` their argmax. In place."""
        for sample in samples:
            image = mmcv.imread(sample.img_path, channel_order='rgb')
            image = torch.from_numpy(image).permute(2, 0, 1)
            logits = sample.seg_logits.data
            probs = dense_crf_downsampled(
                image.to(logits.device), logits.softmax(0), **self.crf_cfg
            )
            sample.seg_logits = PixelData(data=probs.clamp(min=1e-8).log())
            sample.pred_sem_seg = PixelData(data=probs.argmax(0, keepdim=True))
        return samples
