# Copyright (c) mmseg-spml contributors. All rights reserved.
import torch
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
        protos = torch.cat([batch.protos, batch.mem_protos])
        proto_tags = torch.cat(
            [
                img_tags[batch.seg_images],
                foreground_tags(batch.mem_tags).to(img_tags.dtype),
            ]
        )
        return self.nll(
            batch.pix_emb,
            protos,
            batch.pix_seg,
            img_tags[batch.pix_image],
            proto_tags,
        )
