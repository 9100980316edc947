# Copyright (c) mmseg-spml contributors. All rights reserved.
"""What every relation sees: the batch's pixels, segments and memory."""

from dataclasses import dataclass
from typing import Optional

import torch
from mmengine import dist
from torch import Tensor, nn

from mmseg_spml.utils.dist import all_reduce_sum

from ..pixel_segment import MAX_CONCENTRATION, pixel_segment_nll


@dataclass
class SegmentBatch:
    """Pixels (valid ones only, flattened) and segments of a batch.

    Attributes:
        pix_emb (Tensor): (P, D) unit embeddings.
        pix_feat (Tensor): (P, D + 2) unit [embedding; y; x] features.
        pix_seg (Tensor): long (P, ) segment index in ``protos``.
        pix_label (Tensor): long (P, ) weak label (class, or unlabelled).
        pix_image (Tensor): long (P, ) image index.
        pix_cluster (Tensor): long (P, ) k-means cluster.
        pix_region (Tensor, optional): long (P, ) superpixel id.
        protos (Tensor): (S, D) unit prototypes of the batch's segments.
        seg_labels (Tensor): long (S, ).
        seg_images (Tensor): long (S, ).
        tags (Tensor): (N, C) multi-hot image tags of the batch.
        mem_protos (Tensor): (M, D) detached prototypes of past batches.
        mem_labels (Tensor): long (M, ).
        mem_tags (Tensor): (M, C) multi-hot tags of their images.
        num_classes (int): C.
    """

    pix_emb: Tensor
    pix_feat: Tensor
    pix_seg: Tensor
    pix_label: Tensor
    pix_image: Tensor
    pix_cluster: Tensor
    pix_region: Optional[Tensor]
    protos: Tensor
    seg_labels: Tensor
    seg_images: Tensor
    tags: Tensor
    mem_protos: Tensor
    mem_labels: Tensor
    mem_tags: Tensor
    num_classes: int


class BaseRelation(nn.Module):
    """A relation: which segments are positives/negatives of a pixel.

    Args:
        concentration (float): kappa of the relation's likelihood.
        loss_weight (float): lambda, the relation's weight.
        chunk_size (int, optional): Pixels per chunk of the likelihood;
            None chooses it from the number of prototypes (see
            :func:`pixel_segment_nll`). Default: None.
    """

    #: Key of the loss in the loss dict (contains 'loss').
    name = 'loss_relation'

    def __init__(
        self,
        concentration: float,
        loss_weight: float,
        chunk_size: Optional[int] = None,
    ) -> None:
        super().__init__()
        if not 0 < concentration <= MAX_CONCENTRATION:
            raise ValueError(
                f'{type(self).__name__}: concentration must be in '
                f'(0, {MAX_CONCENTRATION}], got {concentration}'
            )
        self.concentration = concentration
        self.loss_weight = loss_weight
        self.chunk_size = chunk_size

    def nll(self, *args, **kwargs) -> Tensor:
        """:func:`pixel_segment_nll` of the relation, weighted, as a mean
        over the contributing pixels of all ranks."""
        loss, count = pixel_segment_nll(
            *args,
            concentration=self.concentration,
            chunk_size=self.chunk_size,
            **kwargs,
        )
        return self.loss_weight * self._mean_over_ranks(loss, count)

    def no_pixels(self, batch: SegmentBatch) -> Tensor:
        """The loss when no pixel of this rank contributes: zero, connected
        to the embeddings, after the same all-reduce as :meth:`nll`.

        Every rank must enter that collective, with or without pixels of
        its own (skipping it puts the ranks' collectives out of step: gloo
        aborts, NCCL hangs).
        """
        loss = zero_loss(batch)
        count = torch.zeros((), dtype=torch.long, device=loss.device)
        return self.loss_weight * self._mean_over_ranks(loss, count)

    @staticmethod
    def _mean_over_ranks(loss: Tensor, count: Tensor) -> Tensor:
        """This rank's share of the mean over the contributing pixels of
        all ranks, times the world size that DDP's gradient averaging
        divides by; ``loss`` itself in one process.

        Args:
            loss (Tensor): Scalar mean over this rank's ``count`` pixels.
            count (Tensor): long scalar, this rank's contributing pixels.
        """
        world = dist.get_world_size()
        if world == 1:
            return loss
        total = loss * count.clamp(min=1)
        return total * world / all_reduce_sum(count).clamp(min=1)

    def forward(self, batch: SegmentBatch) -> Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (
            f'concentration={self.concentration}, '
            f'loss_weight={self.loss_weight}'
        )


def zero_loss(batch: SegmentBatch) -> Tensor:
    """A zero connected to the embeddings (for DDP's reducer)."""
    return 0 * batch.pix_emb.sum() + 0 * batch.protos.sum()


def foreground_tags(tags: Tensor) -> Tensor:
    """Multi-hot tags without the background column: (.., C - 1)."""
    return tags[..., 1:]


def index_of(keep: Tensor) -> Tensor:
    """Position of each kept element among the kept ones (-1 if dropped)."""
    return torch.where(
        keep,
        torch.cumsum(keep.long(), 0) - 1,
        torch.full_like(keep, -1, dtype=torch.long),
    )
