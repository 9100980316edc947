# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Read training checkpoints safely and publish them (meta and weights
only, atomically, named by the sha256 of the written file), as
``tools/misc/publish_model.py`` does."""

import hashlib
import io
import os.path as osp
import sys
from collections.abc import Mapping
from typing import List, Tuple

import torch

from mmseg_spml.utils.io import atomic_file

#: Entries of a published checkpoint; everything else is dropped.
KEEP_KEYS = ('meta', 'state_dict')


def _load_error(path: str, exc: Exception) -> str:
    """The line of a ``torch.load`` error a user can act on."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    unsafe = [line for line in lines if 'Unsupported global' in line]
    if unsafe:  # a pickled object the allow-list does not cover
        hint = unsafe[0].split(' was not an allowed global')[0]
    else:  # e.g. KeyError(105) or EOFError for a text or empty file
        hint = f'{type(exc).__name__}: {lines[0] if lines else "(no message)"}'
    return (
        f'{path} is not a checkpoint that torch.load(weights_only=True) can '
        f'read ({hint})'
    )


def load_checkpoint_file(path: str) -> dict:
    """Read a checkpoint safely and return it as an MMEngine-style dict.

    Args:
        path (str): A ``.pth`` file written by the MMEngine Runner (a dict
            with ``state_dict``) or a plain state dict (name -> tensor).

    Returns:
        dict: At least ``state_dict`` (name -> tensor); a plain state dict
        is wrapped as ``dict(state_dict=...)``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If it is not a checkpoint: unreadable, unsafe to
            unpickle, or without a ``state_dict`` of tensors.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # torch raises several types for bad files
        raise ValueError(_load_error(path, e)) from e
    if not isinstance(ckpt, Mapping):
        raise ValueError(
            f'{path} holds a {type(ckpt).__name__}, not a checkpoint (a dict '
            "with a 'state_dict', or a state dict)"
        )
    if 'state_dict' not in ckpt:
        if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
            return dict(state_dict=ckpt)  # a plain state dict
        raise ValueError(
            f"{path} is not a checkpoint: it has no 'state_dict' (keys: "
            f'{sorted(map(str, ckpt))[:10]})'
        )
    state = ckpt['state_dict']
    bad = (
        [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
        if isinstance(state, Mapping)
        else None
    )
    if bad is not None and not state:
        raise ValueError(f"{path} has an empty 'state_dict'")
    if bad is None or bad:
        raise ValueError(
            f"{path}: 'state_dict' must map parameter names to tensors; "
            + (
                f'got a {type(state).__name__}'
                if bad is None
                else f'{bad[:5]} are not tensors'
            )
        )
    return dict(ckpt)


def strip_checkpoint(ckpt: dict) -> Tuple[dict, List[str]]:
    """Keep :data:`KEEP_KEYS` of a checkpoint.

    Args:
        ckpt (dict): A checkpoint from :func:`load_checkpoint_file`.

    Returns:
        tuple: The published checkpoint (``meta``, an empty dict if the
        input had none, and ``state_dict``) and the sorted names of the
        entries dropped.
    """
    published = dict(meta=dict(ckpt.get('meta') or {}))
    published['state_dict'] = ckpt['state_dict']
    removed = sorted(str(k) for k in ckpt if k not in KEEP_KEYS)
    return published, removed


def published_stem(out_file: str) -> str:
    """``OUT_FILE`` without its ``.pth`` suffix (the hash goes before it)."""
    return out_file[: -len('.pth')] if out_file.endswith('.pth') else out_file


def publish_checkpoint(in_file: str, out_file: str) -> str:
    """Write the published copy of ``in_file`` as ``OUT-<sha256[:8]>.pth``.

    The file is written under a temporary name in the destination folder
    and renamed once complete, so a crash never leaves a partial file under
    the final name.

    Args:
        in_file (str): Training checkpoint.
        out_file (str): Destination name; ``-<hash>`` is inserted before
            ``.pth`` (appended with ``.pth`` when it has another suffix).

    Returns:
        str: The final path.

    Raises:
        FileNotFoundError: If ``in_file`` does not exist.
        ValueError: If ``in_file`` is not a checkpoint.
    """
    ckpt = load_checkpoint_file(in_file)
    published, removed = strip_checkpoint(ckpt)
    stem = published_stem(out_file)
    # Serialised through a file object, so the zip's inner folder is
    # 'archive' and not a file name: the same input, the same hash.
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    final = f'{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth'
    with atomic_file(final) as f:
        f.write(data)
    print(
        f'{in_file} ({osp.getsize(in_file) / 2**20:.1f} MiB) -> '
        f'{final} ({osp.getsize(final) / 2**20:.1f} MiB); '
        f'removed: {", ".join(removed) or "nothing"}',
        file=sys.stderr,
    )
    return final
