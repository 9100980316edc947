# Copyright (c) mmseg-spml contributors. All rights reserved.
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .base import BaseRelation, SegmentBatch


@MODELS.register_module()
class FeatureAffinity(BaseRelation):
    """Unlabelled segments borrow the class of their nearest labelled
    segment of the same image (cosine >= ``threshold``), then pixels and
    segments are contrasted by these labels as multi-hot sets (SPML's
    "feature affinity"). Segments with no neighbour close enough are
    related to every class. Active here; dead code in the reference.

    Args:
        concentration (float): kappa. Default: 12 (paper, table 5).
        loss_weight (float): lambda. Default: 0.5.
        threshold (float): Smallest cosine to borrow a label.
            Default: 0.95 (reference code).
    """

    name = 'loss_feat_aff'

    def __init__(
        self,
        concentration: float = 12.0,
        loss_weight: float = 0.5,
        threshold: float = 0.95,
        **kwargs,
    ) -> None:
        super().__init__(concentration, loss_weight, **kwargs)
        self.threshold = threshold

    def segment_label_sets(self, batch: SegmentBatch) -> Tensor:
        """Multi-hot (S, C) label set of every segment of the batch."""
        c = batch.num_classes
        labelled = batch.seg_labels < c
        sets = F.one_hot(batch.seg_labels.clamp(max=c - 1), c)
        sets = sets * labelled[:, None]
        protos = batch.protos.detach()
        sim = protos @ protos.t()
        same = batch.seg_images[:, None] == batch.seg_images[None, :]
        sim = sim.masked_fill(~(same & labelled[None, :]), float('-inf'))
        best, nearest = sim.max(dim=1)
        borrow = ~labelled & (best >= self.threshold)
        sets[borrow] = sets[nearest[borrow]]
        sets[~labelled & ~borrow] = 1
        return sets

    def forward(self, batch: SegmentBatch) -> Tensor:
        if batch.pix_emb.shape[0] == 0:
            return self.no_pixels(batch)
        sets = self.segment_label_sets(batch)
        return self.nll(
            batch.pix_emb,
            batch.protos,
            batch.pix_seg,
            sets[batch.pix_seg],
            sets,
        )
