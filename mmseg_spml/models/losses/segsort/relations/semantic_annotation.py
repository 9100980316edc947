# Copyright (c) mmseg-spml contributors. All rights reserved.
from mmseg.registry import MODELS
from torch import Tensor

from .base import BaseRelation, SegmentBatch, index_of


@MODELS.register_module()
class SemanticAnnotation(BaseRelation):
    """Labelled pixels vs labelled segments of the batch and the memory:
    same class = positive, other class = negative (SPML's "semantic
    annotation"). Unlabelled pixels and segments take no part.

    Args:
        concentration (float): kappa. Default: 6 (paper, table 5).
        loss_weight (float): lambda. Default: 1.0.
    """

    name = 'loss_sem_ann'

    def __init__(
        self, concentration: float = 6.0, loss_weight: float = 1.0, **kwargs
    ) -> None:
        super().__init__(concentration, loss_weight, **kwargs)

    def forward(self, batch: SegmentBatch) -> Tensor:
        c = batch.num_classes
        pix = batch.pix_label < c
        seg_keep = batch.seg_labels < c
        mem_keep = batch.mem_labels < c
        if not pix.any() or not (seg_keep.any() or mem_keep.any()):
            return self.no_pixels(batch)
        own = index_of(seg_keep)[batch.pix_seg[pix]]
        return self.nll(
            batch.pix_emb[pix],
            batch.protos[seg_keep],
            own,
            batch.pix_label[pix],
            batch.seg_labels[seg_keep],
            memory_protos=batch.mem_protos[mem_keep],
            memory_labels=batch.mem_labels[mem_keep],
        )
