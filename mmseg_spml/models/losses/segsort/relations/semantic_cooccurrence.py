# Copyright (c) mmseg-spml contributors. All rights reserved.
from mmseg.registry import MODELS
from torch import Tensor

from .base import BaseRelation, SegmentBatch, foreground_tags


@MODELS.register_module()
class SemanticCooccurrence(BaseRelation):
    """Every pixel vs every segment (batch + memory), labelled or not: a
    segment is positive if its image shares a foreground tag with the
    pixel's image, negative if it shares none (SPML's "semantic
    co-occurrence"; background is dropped from the tags).

    Args:
        concentration (float): kappa. Default: 12 (paper, table 5).
        loss_weight (float): lambda. Default: 0.5.
    """

    name = 'loss_sem_occ'

    def __init__(
        self, concentration: float = 12.0, loss_weight: float = 0.5, **kwargs
    ) -> None:
        super().__init__(concentration, loss_weight, **kwargs)

    def forward(self, batch: SegmentBatch) -> Tensor:
        if batch.pix_emb.shape[0] == 0:
            return self.no_pixels(batch)
        img_tags = foreground_tags(batch.tags)
        return self.nll(
            batch.pix_emb,
            batch.protos,
            batch.pix_seg,
            img_tags[batch.pix_image],
            img_tags[batch.seg_images],
            memory_protos=batch.mem_protos,
            memory_labels=foreground_tags(batch.mem_tags).to(img_tags.dtype),
        )
