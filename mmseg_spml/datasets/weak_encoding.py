# Copyright (c) mmseg-spml contributors. All rights reserved.
"""How a weak label PNG on disk encodes "unlabelled" and "void", and its
decoding into the package's encoding (:mod:`mmseg_spml.label_encoding`).

The package's own files use 254 for unlabelled pixels and 255 for void.
Scribble PNGs exported by rloss / ScribbleSup tools use 255 for "not
annotated" and have no void: read them with ``unlabelled_value=255,
void_value=None``. Read with the default encoding instead, every
unlabelled pixel would become void and drop out of every SPML relation
without a word; :func:`suspicious_encoding` flags such maps.
"""

from typing import Optional

import numpy as np

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED

#: :func:`suspicious_encoding` flags a map with no 254 and at least this
#: share of 255 pixels.
VOID_SHARE_WARNING = 0.5


def check_encoding(
    unlabelled_value: int, void_value: Optional[int], num_classes: int = 0
) -> None:
    """Validate an encoding: two distinct byte values above the class ids.

    Args:
        unlabelled_value (int): Value of unlabelled pixels in the file.
        void_value (int, optional): Value of void pixels; None if the files
            have no void.
        num_classes (int): Class ids ``0..num_classes - 1`` must stay
            distinct from both. Default: 0 (not checked).

    Raises:
        ValueError: Naming the offending value.
    """
    values = dict(unlabelled_value=unlabelled_value, void_value=void_value)
    for name, value in values.items():
        if value is None and name == 'void_value':
            continue
        if not isinstance(value, int) or not 0 <= value <= 255:
            raise ValueError(
                f'{name} must be an int in [0, 255], got {value!r}'
            )
        if value < num_classes:
            raise ValueError(
                f'{name}={value} is a class id ({num_classes} classes); '
                'unlabelled and void need values above the class ids'
            )
    if unlabelled_value == void_value:
        raise ValueError(
            f'unlabelled_value and void_value are both {void_value}; pass '
            'void_value=None if the files have no void pixels'
        )


def decode_weak_map(
    raw: np.ndarray,
    path: str,
    num_classes: int,
    unlabelled_value: int = UNLABELLED,
    void_value: Optional[int] = IGNORE_INDEX,
) -> np.ndarray:
    """A weak label map read from ``path``, in the package's encoding.

    Args:
        raw (np.ndarray): uint8 (H, W) values as stored in the file.
        path (str): The file, for error messages.
        num_classes (int): Class ids are ``0..num_classes - 1``.
        unlabelled_value (int): The file's unlabelled value.
            Default: 254.
        void_value (int, optional): The file's void value, None if it has
            none. Default: 255.

    Returns:
        np.ndarray: uint8 (H, W): class ids, 254 unlabelled, 255 void.

    Raises:
        ValueError: If a value is neither a class id nor one of the two,
            naming the file, the values and the encoding.
    """
    check_encoding(unlabelled_value, void_value, num_classes)
    values = np.unique(raw)
    known = [unlabelled_value] + ([] if void_value is None else [void_value])
    bad = values[(values >= num_classes) & ~np.isin(values, known)]
    if len(bad):
        void = 'no void' if void_value is None else f'{void_value} (void)'
        raise ValueError(
            f'{path} has labels {bad.tolist()}; expected class ids '
            f'0..{num_classes - 1}, {unlabelled_value} (unlabelled) or '
            f'{void} (encoding unlabelled_value={unlabelled_value}, '
            f'void_value={void_value})'
        )
    out = raw.astype(np.uint8, copy=True)
    out[raw == unlabelled_value] = UNLABELLED
    if void_value is not None:
        out[raw == void_value] = IGNORE_INDEX
    return out


def suspicious_encoding(
    raw: np.ndarray, unlabelled_value: int, void_value: Optional[int]
) -> Optional[str]:
    """Why ``raw`` looks like a file with 255 = unlabelled read as void, or
    None.

    Only the default encoding (254 unlabelled, 255 void) is suspected: a
    map without a single 254 pixel whose 255 pixels cover at least
    :data:`VOID_SHARE_WARNING` of the image.
    """
    if (unlabelled_value, void_value) != (UNLABELLED, IGNORE_INDEX):
        return None
    if (raw == UNLABELLED).any():
        return None
    share = float((raw == IGNORE_INDEX).mean())
    if share < VOID_SHARE_WARNING:
        return None
    return (
        f'{share:.0%} of its pixels are 255 (void) and none is 254 '
        '(unlabelled): if 255 means "not annotated" in these files (rloss '
        'and ScribbleSup exports), set unlabelled_value=255, '
        'void_value=None in LoadWeakAnnotations, or every unlabelled '
        "pixel is dropped from SPML's relations"
    )
