# Copyright (c) mmseg-spml contributors. All rights reserved.
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from mmseg_spml.clustering import unique_rows

from .base import BaseRelation, SegmentBatch


@MODELS.register_module()
class LowLevelSimilarity(BaseRelation):
    """Within each image, on [embedding; xy] features: the segments
    (cluster ∩ superpixel) of the pixel's superpixel are positives, the
    image's other segments negatives (SPML's "low-level image
    similarity"). Unlabelled pixels take part; needs superpixels.

    Args:
        concentration (float): kappa. Default: 16 (paper, table 5).
        loss_weight (float): lambda. Default: 0.1.
    """

    name = 'loss_img_sim'

    def __init__(
        self, concentration: float = 16.0, loss_weight: float = 0.1, **kwargs
    ) -> None:
        super().__init__(concentration, loss_weight, **kwargs)

    def forward(self, batch: SegmentBatch) -> Tensor:
        if batch.pix_region is None:
            raise ValueError(
                'LowLevelSimilarity needs superpixels: add ComputeSuperpixels '
                'or LoadSuperpixels to the training pipeline and pack them '
                'with PackWeakSegInputs'
            )
        if batch.pix_emb.shape[0] == 0:
            return self.no_pixels(batch)
        keys = torch.stack(
            [batch.pix_image, batch.pix_region, batch.pix_cluster], dim=1
        )
        uniq, own = unique_rows(keys)
        d = batch.pix_feat.shape[1]
        sums = batch.pix_feat.new_zeros(len(uniq), d).index_add_(
            0, own, batch.pix_feat
        )
        protos = F.normalize(sums, dim=1)
        return self.nll(
            batch.pix_feat,
            protos,
            own,
            batch.pix_region,
            uniq[:, 1],
            pixel_groups=batch.pix_image,
            proto_groups=uniq[:, 0],
        )
