# Copyright (c) mmseg-spml contributors. All rights reserved.
"""What's the point (Bearman et al., ECCV 2016) clicks to label maps.

``pascal2012_trainval_main.json`` maps a VOC image id to its clicks::

    {"2008_000008": [{"x": 120, "y": 85, "cls": 13, "rank": 1}, ...], ...}

``x``/``y`` are 0-based column/row, ``cls`` the VOC index (1..20 in the
published file: there are no background clicks, so its maps have no
background label; clicks of ``cls`` 0 are accepted as background), ``rank``
the click order. Each click is drawn as a disk; every other pixel is
unlabelled (254). Clicks outside the image are dropped.
"""

from typing import List, Tuple

import numpy as np

from mmseg_spml.label_encoding import UNLABELLED

Click = Tuple[int, int, int]  # (class id, x, y)


def parse_clicks(
    entry: list, source: str, num_classes: int = 21
) -> List[Click]:
    """Validate the clicks of one image.

    Args:
        entry (list): The JSON list of the image.
        source (str): ``file:image`` for error messages.
        num_classes (int): Class ids must be below this. Default: 21.

    Returns:
        list[tuple]: ``(class id, x, y)`` per click, in rank order.

    Raises:
        ValueError: For a click without ``x``/``y``/``cls`` or with a class
            out of range.
    """
    clicks = []
    for i, click in enumerate(sorted(entry, key=lambda c: c.get('rank', 0))):
        try:
            cls, x, y = int(click['cls']), click['x'], click['y']
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(
                f'{source}: click {i} ({click!r}) needs numeric '
                f'"x", "y" and "cls"'
            ) from e
        if not 0 <= cls < num_classes:
            raise ValueError(
                f'{source}: click {i} has cls {cls}; expected '
                f'0..{num_classes - 1}'
            )
        clicks.append((cls, int(round(float(x))), int(round(float(y)))))
    return clicks


def rasterize_clicks(
    shape: Tuple[int, int], clicks: List[Click], radius: int = 6
) -> Tuple[np.ndarray, int]:
    """Draw clicks as disks into a weak label map.

    Args:
        shape (tuple[int, int]): ``(height, width)`` of the image.
        clicks (list): ``(class id, x, y)`` triples; later ones win.
        radius (int): Disk radius; 0 draws single pixels. Default: 6.

    Returns:
        tuple: The uint8 map (H, W) and the number of clicks dropped
        because they lie outside the image.
    """
    height, width = shape
    label = np.full(shape, UNLABELLED, np.uint8)
    yy, xx = np.ogrid[:height, :width]
    dropped = 0
    for cls, x, y in clicks:
        if not (0 <= x < width and 0 <= y < height):
            dropped += 1
            continue
        label[(yy - y) ** 2 + (xx - x) ** 2 <= radius**2] = cls
    return label, dropped
