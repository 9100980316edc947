# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Image tags of data samples as multi-hot tensors."""

from typing import Optional, Sequence

import torch
from mmseg.structures import SegDataSample
from torch import Tensor


def tags_to_multi_hot(
    data_samples: Sequence[SegDataSample],
    num_classes: int,
    device: Optional[torch.device] = None,
    required_by: Optional[str] = None,
) -> Tensor:
    """The samples' ``metainfo['img_tags']`` as multi-hot rows.

    Args:
        data_samples (Sequence[SegDataSample]): N samples.
        num_classes (int): C, background (class 0) included.
        device (torch.device, optional): Device of the result.
            Default: None (CPU).
        required_by (str, optional): Who needs the tags, for the error of
            a sample without them; None gives samples without tags an
            all-ones row (every class possible). Default: None.

    Returns:
        Tensor: bool (N, C); row i holds sample i's tags.

    Raises:
        KeyError: If ``required_by`` is set and a sample has no tags.
        ValueError: If a tag is not a class id ``0..C-1``.
    """
    tags = torch.zeros(len(data_samples), num_classes, dtype=torch.bool)
    for i, sample in enumerate(data_samples):
        ids = sample.metainfo.get('img_tags')
        if ids is None:
            if required_by is not None:
                raise KeyError(
                    f'{required_by} needs image tags in the data samples '
                    f"(metainfo['img_tags']) of "
                    f'{sample.metainfo.get("img_path", "the batch")}: use '
                    'LoadWeakAnnotations and PackWeakSegInputs in the '
                    'pipeline'
                )
            tags[i] = True
            continue
        ids = list(ids)
        bad = [t for t in ids if not 0 <= t < num_classes]
        if bad:
            raise ValueError(
                f'img_tags {bad} of {sample.metainfo.get("img_path")} '
                f'outside the {num_classes} classes'
            )
        tags[i, ids] = True
    return tags.to(device) if device is not None else tags
