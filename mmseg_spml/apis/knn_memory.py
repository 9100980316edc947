# Copyright (c) mmseg-spml contributors. All rights reserved.
"""One training image's entries of SPML's KNN segment memory
(``tools/build_knn_memory.py``)."""

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg_spml.models.utils import preprocess_sample
from mmseg_spml.refinement import image_prototypes


@torch.no_grad()
def image_memory(
    model: nn.Module,
    data: dict,
    grid: Tuple[int, int],
    num_iters: int = 10,
) -> Tuple[Tensor, Tensor]:
    """Prototypes of one image's segments, labelled by its weak labels.

    The image is embedded by the SPML model and clustered (spherical
    k-means on ``[embedding; xy]``); each cluster is labelled with the
    majority of its pixels' labels (the sample's ``gt_sem_seg``, nearest
    resized to the embedding), unlabelled where it has none.

    Args:
        model (SPMLEncoderDecoder): The trained model, in eval mode.
        data (dict): The sample as the data set gives it (``inputs``,
            ``data_samples`` with the weak or pseudo labels).
        grid (tuple[int, int]): k-means grid.
        num_iters (int): k-means iterations.

    Returns:
        tuple: (S, D) unit prototypes and (S, ) their labels, on the CPU.
    """
    emb = model.decode_head.embed(
        model.extract_feat(preprocess_sample(model, data))
    )
    label = F.interpolate(
        data['data_samples'].gt_sem_seg.data[None].float(),
        size=emb.shape[2:],
        mode='nearest',
    )[:, 0].long()
    protos, labels, _ = image_prototypes(
        emb,
        label.to(emb.device),
        model.decode_head.num_classes,
        grid=tuple(grid),
        num_iters=num_iters,
    )
    return protos.cpu(), labels.cpu()
