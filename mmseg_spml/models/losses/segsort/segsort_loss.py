# Copyright (c) mmseg-spml contributors. All rights reserved.
"""SPML's SegSort loss: k-means segments, prototypes, memory, relations."""

from collections import deque
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmseg_spml.clustering import (
    location_features,
    make_segments,
    segment_prototypes,
    spherical_kmeans,
)
from mmseg_spml.label_encoding import IGNORE_INDEX
from mmseg_spml.utils.device import autocast_disabled
from mmseg_spml.utils.dist import all_gather_cat, all_gather_cat_with_grad

from .relations import SegmentBatch


class SegmentMemory:
    """Prototypes, labels and image tags of the last ``size`` batches of
    all ranks, detached (SPML's memory bank; the paper keeps 2).

    Args:
        size (int): Number of past batches kept; 0 disables the memory.
    """

    def __init__(self, size: int) -> None:
        self.batches: deque = deque(maxlen=max(size, 0) or None)
        self.size = size

    def push(self, protos: Tensor, labels: Tensor, tags: Tensor) -> None:
        """Keep a batch's segments (already gathered from all ranks)."""
        if self.size <= 0:
            return
        self.batches.append(tuple(t.detach() for t in (protos, labels, tags)))

    def get(self, like: Tensor, num_classes: int) -> Tuple[Tensor, ...]:
        """(M, D) prototypes, (M, ) labels and (M, C) tags, possibly
        empty, on ``like``'s device."""
        if not self.batches:
            d = like.shape[1]
            return (
                like.new_zeros(0, d),
                torch.zeros(0, dtype=torch.long, device=like.device),
                like.new_zeros(0, num_classes),
            )
        return tuple(torch.cat(parts) for parts in zip(*self.batches))


@MODELS.register_module()
class SegSortLoss(nn.Module):
    """Pixel-to-segment contrastive loss over pluggable relations.

    Per image, spherical k-means on ``[embedding; y; x]`` (grid
    initialisation) splits the valid pixels into clusters; segments are
    cluster ∩ weak label ∩ superpixel; their normalised mean embeddings are
    the prototypes, joined by those of the memory bank. Each relation then
    adds its term (already multiplied by its weight).

    In distributed training the prototypes, labels and tags of every
    rank's segments are gathered (the prototypes with gradients, which flow
    back to the rank that owns them), segment and image ids are offset per
    rank, and each relation's mean is taken over the contributing pixels
    of all ranks: with DDP's gradient averaging, N processes compute the
    loss and gradients of one process on the concatenated batch.

    Under mixed precision (autocast), the loss leaves autocast and works on
    float32 copies of the embeddings: it exponentiates scaled cosine
    similarities, which half precision would distort; the losses, the
    memory bank and the gradients' computation are float32.

    Args:
        relations (list[dict]): Relation configs, e.g.
            ``[dict(type='SemanticAnnotation', concentration=6)]``.
        num_classes (int): Number of classes C; labels >= C are unlabelled.
        kmeans_grid (tuple[int, int]): Initial grid. Default: (6, 6).
        kmeans_iters (int): k-means iterations. Default: 10.
        memory_size (int): Past batches in the memory bank. Default: 2.
    """

    def __init__(
        self,
        relations: Sequence[dict],
        num_classes: int,
        kmeans_grid: Tuple[int, int] = (6, 6),
        kmeans_iters: int = 10,
        memory_size: int = 2,
    ) -> None:
        super().__init__()
        if not relations:
            raise ValueError('SegSortLoss needs at least one relation')
        self.relations = nn.ModuleList(MODELS.build(r) for r in relations)
        names = [r.name for r in self.relations]
        if len(set(names)) != len(names):
            raise ValueError(f'relations repeat a loss name: {names}')
        self.num_classes = num_classes
        self.kmeans_grid = tuple(kmeans_grid)
        self.kmeans_iters = kmeans_iters
        self.memory = SegmentMemory(memory_size)

    def forward(
        self,
        embeddings: Tensor,
        labels: Tensor,
        tags: Tensor,
        superpixels: Optional[Tensor] = None,
    ) -> Dict[str, Tensor]:
        """Compute every relation's loss.

        Args:
            embeddings (Tensor): (N, D, H, W) unit pixel embeddings.
            labels (Tensor): long (N, H, W) weak labels at the embedding
                resolution (255 = void, >= C unlabelled).
            tags (Tensor): (N, C) multi-hot image tags.
            superpixels (Tensor, optional): long (N, H, W) region ids.

        Returns:
            dict[str, Tensor]: One loss per relation, float32.
        """
        with autocast_disabled(embeddings.device):
            return self._forward(
                embeddings.float(), labels, tags.float(), superpixels
            )

    def _forward(
        self,
        embeddings: Tensor,
        labels: Tensor,
        tags: Tensor,
        superpixels: Optional[Tensor],
    ) -> Dict[str, Tensor]:
        """:meth:`forward` on float32 inputs, autocast off."""
        n, _, h, w = embeddings.shape
        valid = labels != IGNORE_INDEX
        loc = location_features(h, w, embeddings.device, embeddings.dtype)
        feats = F.normalize(
            torch.cat([embeddings, loc.expand(n, -1, -1, -1)], dim=1), dim=1
        )
        clusters = spherical_kmeans(
            feats, valid, self.kmeans_grid, self.kmeans_iters
        )
        segs = make_segments(clusters, labels, superpixels)
        # Segments and images of all ranks; this rank's come at offsets.
        protos, seg_offset = all_gather_cat_with_grad(
            segment_prototypes(embeddings, segs.ids, segs.num)
        )
        tags, image_offset = all_gather_cat_with_grad(tags)
        seg_labels = all_gather_cat(segs.labels)
        seg_images = all_gather_cat(segs.images + image_offset)
        mem_protos, mem_labels, mem_tags = self.memory.get(
            protos, self.num_classes
        )
        flat_valid = valid.reshape(-1)

        def pixels(x: Tensor) -> Tensor:
            return x.reshape(-1)[flat_valid]

        batch = SegmentBatch(
            pix_emb=embeddings.permute(0, 2, 3, 1).reshape(
                -1, embeddings.shape[1]
            )[flat_valid],
            pix_feat=feats.permute(0, 2, 3, 1).reshape(-1, feats.shape[1])[
                flat_valid
            ],
            pix_seg=pixels(segs.ids) + seg_offset,
            pix_label=pixels(labels),
            pix_image=pixels(
                torch.arange(n, device=labels.device)
                .view(n, 1, 1)
                .expand(n, h, w)
            )
            + image_offset,
            pix_cluster=pixels(clusters),
            pix_region=None if superpixels is None else pixels(superpixels),
            protos=protos,
            seg_labels=seg_labels,
            seg_images=seg_images,
            tags=tags.to(protos.dtype),
            mem_protos=mem_protos.to(protos.dtype),
            mem_labels=mem_labels,
            mem_tags=mem_tags.to(protos.dtype),
            num_classes=self.num_classes,
        )
        losses = {rel.name: rel(batch) for rel in self.relations}
        if self.training:
            self.memory.push(protos, seg_labels, batch.tags[seg_images])
        return losses
