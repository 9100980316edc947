# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Atomic writers for label maps, JSON and folders: complete or absent."""

import glob
import json
import os
import os.path as osp
import shutil
import tempfile
from contextlib import contextmanager
from typing import IO, Any, Iterator, Optional, Sequence

import cv2
import numpy as np
from PIL import Image

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED

#: Display colours of the two "unknown" values in label PNGs.
UNLABELLED_COLOUR = (255, 255, 255)
IGNORE_COLOUR = (224, 224, 192)  # VOC's void colour


def label_palette(class_colours: Sequence[Sequence[int]]) -> list:
    """A 256-entry PNG palette: class colours, then black, with white for
    :data:`UNLABELLED` and VOC's cream for :data:`IGNORE_INDEX`."""
    palette = [list(c) for c in class_colours][:UNLABELLED]
    palette += [[0, 0, 0]] * (256 - len(palette))
    palette[UNLABELLED] = list(UNLABELLED_COLOUR)
    palette[IGNORE_INDEX] = list(IGNORE_COLOUR)
    return [v for colour in palette for v in colour]


@contextmanager
def atomic_file(path: str, mode: str = 'wb') -> Iterator[IO]:
    """Write a file that appears at ``path`` complete or not at all.

    Yields a temporary sibling of ``path`` opened with ``mode``; when the
    ``with`` block succeeds, the file gets the permissions a plain
    ``open`` would give (``0o666`` less the umask; temporary files are
    private) and is renamed to ``path``, replacing an older copy. On any
    error the temporary file is removed and ``path`` stays as it was.

    Example:
        >>> with atomic_file('out/memory.pth') as f:
        ...     torch.save(state, f)

    Args:
        path (str): Destination file; its folder is created if needed.
        mode (str): ``'wb'`` or ``'w'``. Default: 'wb'.
    """
    if mode not in ('w', 'wb'):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=directory
    )
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def save_label_png(
    path: str, label: np.ndarray, palette: Optional[list] = None
) -> None:
    """Write a uint8 label map (H, W) as a (palette) PNG, atomically.

    Args:
        path (str): Destination ``.png`` file.
        label (np.ndarray): Label map with values in [0, 255].
        palette (list, optional): 768 palette values, e.g. from
            :func:`label_palette`; None writes a grayscale PNG.
    """
    if label.ndim != 2 or label.dtype != np.uint8:
        raise ValueError(
            f'label for {path} must be a uint8 (H, W) array, '
            f'got {label.dtype} {label.shape}'
        )
    img = Image.fromarray(label, mode='P' if palette else 'L')
    if palette:
        img.putpalette(palette)
    with atomic_file(path) as f:
        img.save(f, format='PNG')


def save_rgb_image(path: str, rgb: np.ndarray) -> None:
    """Write an RGB image (H, W, 3) uint8, atomically, in the format of
    ``path``'s extension (``.png``, ``.jpg``...).

    Raises:
        ValueError: If OpenCV cannot encode the image in that format.
    """
    ext = osp.splitext(path)[1].lower()
    ok, encoded = cv2.imencode(ext, np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise ValueError(f'OpenCV could not encode {path} as {ext!r}')
    with atomic_file(path) as f:
        f.write(encoded.tobytes())


def save_json(path: str, obj: Any) -> None:
    """Write ``obj`` as JSON, atomically."""
    with atomic_file(path, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)


@contextmanager
def atomic_directory(path: str, marker: str) -> Iterator[str]:
    """Fill a folder that appears at ``path`` complete or not at all.

    Yields a temporary sibling folder; when the ``with`` block succeeds it
    is renamed to ``path``. If another process (e.g. a distributed rank)
    finished the same folder first, which ``marker`` (a file the finished
    folder holds) tells, that copy is kept. The temporary folder is always
    removed.

    Example:
        >>> with atomic_directory('data/demo', 'meta.json') as tmp:
        ...     write_everything_into(tmp)

    Args:
        path (str): Destination folder; must not exist yet.
        marker (str): Name of a file inside a finished folder.
    """
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(path)}-', dir=parent)
    try:
        yield tmp
        try:
            os.rename(tmp, path)
        except OSError:
            if not osp.isfile(osp.join(path, marker)):
                raise
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp)


def read_split(path: str) -> list:
    """Image stems of a split file (first word of every non-empty line).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file {path} does not exist')
    with open(path) as f:
        return [line.split()[0] for line in f if line.strip()]


def image_names(folder: str, ext: str, split: Optional[str] = None) -> list:
    """The image stems a per-image folder is read for: those of the split
    file when given (:func:`read_split`), else of every ``*<ext>`` file in
    ``folder``, sorted.

    Raises:
        FileNotFoundError: If the split file does not exist.
    """
    if split:
        return read_split(split)
    return sorted(
        osp.splitext(osp.basename(p))[0]
        for p in glob.glob(osp.join(folder, '*' + ext))
    )
