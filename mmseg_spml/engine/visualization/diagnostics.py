# Copyright (c) mmseg-spml contributors. All rights reserved.
"""What SPML's visual diagnostics draw, computed from a segmentor.

:func:`spml_diagnostics` runs an SPML segmentor (any segmentor whose decode
head has ``embed`` and ``classify``, e.g. ``SPMLEncoderDecoder`` with an
``SPMLASPPHead``) on a dataloader batch and returns, per image, the
arrays :func:`~mmseg_spml.engine.visualization.diagnostic_panel` draws: the
image, its embedding, the k-means segments, superpixels, the weak or
pseudo label of the data sample and the prediction. It only uses the
segmentor's public pieces (``data_preprocessor``, ``extract_feat``,
``decode_head.embed`` / ``classify``, ``encode_decode`` for KNN
prediction), so segmentors need no extra method.
"""

from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmseg.structures import SegDataSample
from torch import Tensor, nn

from mmseg_spml.clustering import (
    location_features,
    make_segments,
    spherical_kmeans,
)
from mmseg_spml.label_encoding import IGNORE_INDEX
from mmseg_spml.models.utils import preprocess_sample
from mmseg_spml.utils.models import eval_mode

from .drawing import default_palette, diagnostic_panel


class ImageDiagnostics(NamedTuple):
    """The diagnostics of one image, all cropped to the image (no padding).

    Attributes:
        image (np.ndarray): uint8 (H, W, 3) RGB image, as the model saw it
            (after the pipeline).
        embedding (Tensor): (D, h, w) unit embeddings (CPU).
        segments (np.ndarray): int64 (h, w) k-means segment ids, -1 for
            pixels of no segment (void).
        superpixels (np.ndarray, optional): int64 (H, W) region ids.
        label (np.ndarray, optional): int64 (H, W) label of the data
            sample (weak or pseudo labels in training, 254 = unlabelled).
        prediction (np.ndarray): int64 (H, W) predicted class ids.
    """

    image: np.ndarray
    embedding: Tensor
    segments: np.ndarray
    superpixels: Optional[np.ndarray]
    label: Optional[np.ndarray]
    prediction: np.ndarray


def check_spml_segmentor(model: nn.Module) -> None:
    """Raise a ``TypeError`` unless ``model`` has an SPML decode head."""
    head = getattr(model, 'decode_head', None)
    if not (hasattr(head, 'embed') and hasattr(head, 'classify')):
        raise TypeError(
            'SPML visual diagnostics need a segmentor whose decode head '
            'computes embeddings (decode_head.embed/classify, e.g. '
            f'SPMLASPPHead); got {type(model).__name__} with decode head '
            f'{type(head).__name__}'
        )


def kmeans_settings(
    model: nn.Module,
    grid: Optional[Sequence[int]] = None,
    num_iters: Optional[int] = None,
) -> Tuple[Tuple[int, int], int]:
    """The k-means grid and iterations to draw segments with: the given
    ones, else the decode head's SegSort loss settings, else the KNN
    prediction's, else (6, 6) and 10."""
    segsort = getattr(model.decode_head, 'segsort', None)
    knn = getattr(model, 'knn_cfg', None) or {}
    if grid is None:
        grid = getattr(segsort, 'kmeans_grid', None) or knn.get('grid')
    if num_iters is None:
        num_iters = getattr(segsort, 'kmeans_iters', None) or knn.get(
            'num_iters'
        )
    grid = tuple(int(g) for g in (grid or (6, 6)))
    if len(grid) != 2 or min(grid) < 1:
        raise ValueError(f'kmeans grid must be two positive ints: {grid}')
    return grid, int(num_iters or 10)


def resolve_palette(num_classes: int, *sources: Optional[dict]) -> list:
    """The first non-empty ``palette`` of ``sources`` (data sample
    metainfo, dataset metainfo, ``model.dataset_meta``...; None entries
    are skipped), else :func:`default_palette`."""
    for source in sources:
        palette = (source or {}).get('palette')
        if palette is not None and len(palette):
            return [list(colour) for colour in palette]
    return default_palette(num_classes)


def _field(sample, key: str) -> Optional[Tensor]:
    if sample is None or key not in sample:
        return None
    data = getattr(sample, key).data
    return data[0] if data.ndim == 3 else data


def _fit(field: Tensor, size: Tuple[int, int], metainfo: dict) -> Tensor:
    """A per-pixel field of a data sample at the image's ``size``.

    Training fields are padded (bottom/right) to the batch's
    ``pad_shape`` by the data preprocessor, in place: crop them. Fields
    read at the original size while the image was resized (MMSeg test
    pipelines load annotations after ``Resize``) are resized.
    """
    shape = tuple(field.shape)
    if shape == tuple(size):
        return field
    larger = shape[0] >= size[0] and shape[1] >= size[1]
    pad = metainfo.get('pad_shape')
    if larger and pad is not None and shape == tuple(pad[:2]):
        return field[: size[0], : size[1]]
    ori = metainfo.get('ori_shape')
    if larger and (ori is None or shape != tuple(ori[:2])):
        return field[: size[0], : size[1]]
    return _resize_ids(field, size)


def _resize_ids(ids: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest-neighbour resize of an integer (H, W) map."""
    if tuple(ids.shape) == tuple(size):
        return ids
    return (
        F.interpolate(ids[None, None].double(), size=size, mode='nearest')[
            0, 0
        ]
        .round()
        .long()
    )


def _display_image(img: Tensor, bgr: bool) -> np.ndarray:
    """uint8 (H, W, 3) RGB from a loaded (C, H, W) image tensor."""
    arr = img.detach().cpu()
    if arr.ndim == 2:
        arr = arr[None]
    if arr.shape[0] >= 3:
        arr = arr[:3].flip(0) if bgr else arr[:3]
    else:  # grey
        arr = arr[:1].expand(3, -1, -1)
    arr = arr.float().clamp(0, 255).round().to(torch.uint8)
    return arr.permute(1, 2, 0).contiguous().numpy()


def _one_image(
    model: nn.Module,
    img: Tensor,
    sample: Optional[SegDataSample],
    intersect: bool,
    grid: Tuple[int, int],
    num_iters: int,
    bgr: bool,
) -> ImageDiagnostics:
    size = tuple(img.shape[-2:])
    metainfo = {} if sample is None else sample.metainfo
    inputs = preprocess_sample(
        model, dict(inputs=img, data_samples=SegDataSample())
    )
    pad_h, pad_w = inputs.shape[-2:]
    emb = model.decode_head.embed(model.extract_feat(inputs))
    if getattr(model, 'knn_cfg', None) is None:
        logits = model.decode_head.classify(emb)
    else:
        meta = dict(img_shape=(pad_h, pad_w), pad_shape=(pad_h, pad_w))
        logits = model.encode_decode(inputs, [meta])
    logits = F.interpolate(
        logits.float(),
        size=(pad_h, pad_w),
        mode='bilinear',
        align_corners=getattr(model, 'align_corners', False),
    )
    prediction = logits[0, :, : size[0], : size[1]].argmax(0)

    # The embedding of the image without its padding.
    eh = max(1, round(emb.shape[2] * size[0] / pad_h))
    ew = max(1, round(emb.shape[3] * size[1] / pad_w))
    emb = emb[..., :eh, :ew].float()

    label = _field(sample, 'gt_sem_seg')
    superpixels = _field(sample, 'gt_superpixel')
    if label is not None:
        label = _fit(label.long().cpu(), size, metainfo)
    if superpixels is not None:
        superpixels = _fit(superpixels.long().cpu(), size, metainfo)

    valid = torch.ones(1, eh, ew, dtype=torch.bool)
    small_label = small_sp = None
    if label is not None:
        small_label = _resize_ids(label, (eh, ew))[None]
        if intersect:  # void pixels take part in nothing, as in training
            valid &= small_label != IGNORE_INDEX
    if superpixels is not None:
        small_sp = _resize_ids(superpixels, (eh, ew))[None]
        valid &= small_sp >= 0
    valid = valid.to(emb.device)
    loc = location_features(eh, ew, emb.device, emb.dtype)
    feats = F.normalize(torch.cat([emb, loc[None]], dim=1), dim=1)
    clusters = spherical_kmeans(feats, valid, grid, num_iters)
    if intersect and small_label is not None:
        segments = make_segments(
            clusters,
            small_label.to(emb.device),
            None if small_sp is None else small_sp.to(emb.device),
        ).ids
    else:
        segments = clusters

    return ImageDiagnostics(
        image=_display_image(img, bgr),
        embedding=emb[0].cpu(),
        segments=segments[0].cpu().numpy(),
        superpixels=None if superpixels is None else superpixels.numpy(),
        label=None if label is None else label.numpy(),
        prediction=prediction.cpu().numpy().astype(np.int64),
    )


def spml_diagnostics(
    model: nn.Module,
    data: dict,
    max_images: Optional[int] = None,
    intersect: bool = True,
    kmeans_grid: Optional[Sequence[int]] = None,
    kmeans_iters: Optional[int] = None,
    bgr: bool = True,
) -> List[ImageDiagnostics]:
    """Embeddings, segments and predictions of a dataloader batch.

    Each image runs through the model on its own (so images of any size
    mix), in eval mode and without gradients; the model's previous mode
    is restored. Segments are SPML's: spherical k-means on
    ``[embedding; y; x]`` over the non-void pixels, intersected with the
    sample's label and superpixels when ``intersect`` (what the SegSort
    loss sees in training).

    Args:
        model (nn.Module): An SPML segmentor, not wrapped (pass
            ``model.module`` of a DDP model).
        data (dict): A dataloader batch: ``inputs`` (list of uint8
            (C, H, W) images as loaded) and optionally ``data_samples``.
        max_images (int, optional): Only the first ones. Default: all.
        intersect (bool): Segments = clusters ∩ label ∩ superpixels, as in
            training; False: the k-means clusters alone (inference).
            Default: True.
        kmeans_grid (Sequence[int], optional): Default: the model's
            SegSort settings (:func:`kmeans_settings`).
        kmeans_iters (int, optional): Default: the model's.
        bgr (bool): The inputs are BGR, OpenMMLab's loading order; they
            are shown as RGB. Default: True.

    Returns:
        list[ImageDiagnostics]: One per image.
    """
    check_spml_segmentor(model)
    grid, num_iters = kmeans_settings(model, kmeans_grid, kmeans_iters)
    inputs = list(data['inputs'])
    samples = list(data.get('data_samples') or [None] * len(inputs))
    if len(samples) != len(inputs):
        raise ValueError(
            f'the batch has {len(inputs)} inputs but {len(samples)} data '
            'samples'
        )
    if max_images is not None:
        inputs, samples = inputs[:max_images], samples[:max_images]
    with eval_mode(model):
        return [
            _one_image(model, img, sample, intersect, grid, num_iters, bgr)
            for img, sample in zip(inputs, samples)
        ]


def render_diagnostics(
    diag: ImageDiagnostics, palette: Sequence[Sequence[int]], **kwargs
) -> np.ndarray:
    """:func:`diagnostic_panel` of one image's diagnostics.

    Returns:
        np.ndarray: uint8 (H, 6 * W, 3) RGB strip.
    """
    return diagnostic_panel(
        diag.image,
        embedding=diag.embedding,
        segments=diag.segments,
        superpixels=diag.superpixels,
        label=diag.label,
        prediction=diag.prediction,
        palette=palette,
        **kwargs,
    )
