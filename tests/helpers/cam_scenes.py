# Copyright (c) mmseg-spml contributors. All rights reserved.
"""A tiny image with a CAM that spills past its object, for the CRF tests."""

from typing import Tuple

import torch
from torch import Tensor


def spilling_cam_scene() -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """A red 8x8 object (class 2) on a grey 32x32 image, and its CAM: 1
    over the object and a 2-pixel halo, 0.2 one pixel further, 0
    elsewhere.

    Returns:
        tuple: float (3, 32, 32) RGB image (0-255), (1, 32, 32) CAM, (1, )
        keys ``[2]``, long (32, 32) true labels (2 on the object, else 0).
    """
    image = torch.full((3, 32, 32), 128.0)
    image[:, 12:20, 12:20] = torch.tensor([220.0, 20.0, 20.0])[:, None, None]
    cam = torch.zeros(1, 32, 32)
    cam[0, 9:23, 9:23] = 0.2
    cam[0, 10:22, 10:22] = 1.0
    obj = torch.zeros(32, 32, dtype=torch.long)
    obj[12:20, 12:20] = 2
    return image, cam, torch.tensor([2]), obj
