# Copyright (c) mmseg-spml contributors. All rights reserved.
"""CAM files to pseudo-label PNGs, one image at a time
(``tools/make_pseudo_masks.py``).

A :class:`CamLabelRule` names the labelling rule and its thresholds;
:func:`write_cam_file_labels` reads ``<cam_dir>/<name>.npz``, applies the
rule (or SPML's CAM-in-box rule when the image's boxes are given) and
writes ``<out>/<name>.png`` in the project's label encoding.
"""

import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from ..datasets.box_labels import Box, check_box_map, check_boxes_in_image
from ..datasets.converters import VOC_LABEL_PALETTE
from ..datasets.transforms.loading import read_label_map
from ..label_encoding import IGNORE_INDEX, UNLABELLED
from ..utils.io import save_label_png
from .boxes import cam_in_box_labels
from .cam import band_labels, cams_to_labels, pmm_pseudo_labels
from .cam_files import load_cam_file
from .irn import crf_band_labels

#: Labelling rules for tag CAMs.
CAM_LABEL_METHODS = ('band', 'threshold', 'cvs', 'ppmg', 'cvs+ppmg')
#: SPML's thresholds (appendix A.2): tags and boxes.
TAG_THRESHOLD, BOX_THRESHOLD = 0.2, 0.5


@dataclass(frozen=True)
class CamLabelRule:
    """How CAMs become labels.

    Args:
        method (str): One of :data:`CAM_LABEL_METHODS`: ``band`` (IRN's
            confidence band), ``threshold`` (SPML appendix A.2), ``cvs``,
            ``ppmg``, ``cvs+ppmg`` (PMM). Boxes use ``threshold``.
        fg_threshold (float): ``band``: CAMs at least this are foreground.
        bg_threshold (float): ``band``: CAMs below this are background.
        alpha (float): Power of the background score ``(1 - max) ** alpha``.
        threshold (float): Pixels whose best score is lower are unlabelled
            (``threshold``, ``cvs`` and boxes).
        cvs_threshold (float): PMM's CVS threshold.
        cvs_scale (float): PMM's CVS scale.
        ppmg_alpha (float): Power of the background in PPMG's per-class
            foreground.
        unlabelled_as_background (bool): Write unlabelled pixels as
            background (a full-mask target for plain training).
        crf (bool): ``band`` only: refine both seed maps with IRN's dense
            CRF (:func:`~mmseg_spml.pseudo_masks.crf_band_labels`), which
            needs each image. Default: False.
    """

    method: str = 'band'
    fg_threshold: float = 0.30
    bg_threshold: float = 0.05
    alpha: float = 6.0
    threshold: float = TAG_THRESHOLD
    cvs_threshold: float = 0.05
    cvs_scale: float = 0.3
    ppmg_alpha: float = 11.0
    unlabelled_as_background: bool = False
    crf: bool = False

    def __post_init__(self) -> None:
        if self.method not in CAM_LABEL_METHODS:
            raise ValueError(
                f'method must be one of {CAM_LABEL_METHODS}, got '
                f'{self.method!r}'
            )
        if self.crf and self.method != 'band':
            raise ValueError(
                f"crf refines the 'band' method's seeds only, got method "
                f'{self.method!r}'
            )

    def tag_labels(
        self, cams: Tensor, keys: Tensor, image: Optional[Tensor] = None
    ) -> Tensor:
        """Labels of one image's tag CAMs.

        Args:
            cams (Tensor): (K, H, W) CAMs in [0, 1].
            keys (Tensor): (K, ) their class ids.
            image (Tensor, optional): (3, H, W) RGB image, 0-255; needed
                with ``crf``.

        Returns:
            Tensor: int64 (H, W) class ids, ``UNLABELLED`` where unsure.
        """
        if self.crf:
            if image is None:
                raise ValueError('the crf rule needs the image of the CAMs')
            return crf_band_labels(
                cams, keys, image, self.fg_threshold, self.bg_threshold
            )
        if self.method == 'band':
            return band_labels(
                cams, keys, self.fg_threshold, self.bg_threshold
            )
        if self.method == 'threshold':
            return cams_to_labels(cams, keys, self.alpha, self.threshold)
        return pmm_pseudo_labels(
            cams,
            keys,
            use_cvs=self.method.startswith('cvs'),
            use_ppmg=self.method.endswith('ppmg'),
            alpha=self.alpha,
            threshold=self.threshold,
            cvs_threshold=self.cvs_threshold,
            cvs_scale=self.cvs_scale,
            ppmg_alpha=self.ppmg_alpha,
        )


def box_labels_of_image(
    name: str,
    cams: Tensor,
    keys: Tensor,
    boxes: Optional[List[Box]],
    box_dir: str,
    rule: CamLabelRule,
) -> Tensor:
    """CAM-in-box labels of one image, checked against its box map.

    Args:
        name (str): The image's name.
        cams (Tensor): (K, H, W) CAMs in [0, 1].
        keys (Tensor): (K, ) their class ids.
        boxes (list[Box], optional): The image's entry of
            ``<box_dir>/boxes.json``; None if it has none.
        box_dir (str): Folder of ``boxes.json`` and, optionally, the
            ``<name>.png`` box maps (0 outside the boxes, 254 inside, 255
            void), whose void pixels stay void.
        rule (CamLabelRule): ``alpha`` and ``threshold`` of the rule.

    Returns:
        Tensor: int64 (H, W) labels.

    Raises:
        ValueError: If the image has no entry, a box leaves the image, the
            box map disagrees with the boxes, or a box's class has no CAM;
            the message names the file.
    """
    boxes_file = osp.join(box_dir, 'boxes.json')
    if boxes is None:
        raise ValueError(
            f'image {name} is not in {boxes_file}; it needs an entry, '
            '[] for an image without objects'
        )
    shape = tuple(cams.shape[1:])
    check_boxes_in_image(
        boxes, shape, f'{boxes_file}: image {name} (CAM size {shape})'
    )
    map_path = osp.join(box_dir, name + '.png')
    void = None
    if osp.isfile(map_path):
        box_map = read_label_map(map_path)
        check_box_map(box_map, boxes, shape, map_path)
        void = torch.from_numpy(box_map == IGNORE_INDEX)
    try:
        label = cam_in_box_labels(
            cams, keys, boxes, alpha=rule.alpha, threshold=rule.threshold
        )
    except ValueError as e:
        raise ValueError(f'{name} ({boxes_file}): {e}') from e
    if void is not None:
        label[void] = IGNORE_INDEX
    return label


def read_cam_image(
    img_dir: Optional[str], filename: str, cam_shape: Tuple[int, ...]
) -> Tensor:
    """The RGB image of a CAM file, checked against the CAMs' size.

    Args:
        img_dir (str, optional): Folder of the images.
        filename (str): The image's file name in ``img_dir``.
        cam_shape (tuple): (K, H, W) of the image's CAMs.

    Returns:
        Tensor: float (3, H, W) RGB image, 0-255.

    Raises:
        ValueError: Without ``img_dir``, if the image is missing, or if its
            size is not the CAMs' (the message names the file).
    """
    if img_dir is None:
        raise ValueError('the crf rule needs the folder of the images')
    path = osp.join(img_dir, filename)
    if not osp.isfile(path):
        raise ValueError(f'image {path} does not exist (needed by the crf)')
    with Image.open(path) as img:
        rgb = np.asarray(img.convert('RGB'))
    if rgb.shape[:2] != tuple(cam_shape[1:]):
        raise ValueError(
            f'image {path} is {rgb.shape[0]}x{rgb.shape[1]}, its CAMs are '
            f'{cam_shape[1]}x{cam_shape[2]}: CAMs must be at image size'
        )
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1).float()


def write_cam_file_labels(
    name: str,
    cam_dir: str,
    out_dir: str,
    rule: CamLabelRule,
    box_dir: Optional[str] = None,
    boxes: Optional[dict] = None,
    img_dir: Optional[str] = None,
    img_suffix: str = '.jpg',
) -> Tuple[str, List[int]]:
    """Write the pseudo label of one image's CAM file.

    Args:
        name (str): The image's name: reads ``<cam_dir>/<name>.npz``,
            writes ``<out_dir>/<name>.png`` (atomically, VOC palette).
        cam_dir (str): Folder of CAM files.
        out_dir (str): Output folder.
        rule (CamLabelRule): The labelling rule.
        box_dir (str, optional): With boxes: the folder of ``boxes.json``
            (CAM-in-box labels, :func:`box_labels_of_image`).
        boxes (dict, optional): With ``box_dir``: ``boxes.json`` as read
            by ``load_boxes_file`` (name -> boxes).
        img_dir (str, optional): Folder of the images
            (``<name><img_suffix>``), for a ``crf`` rule.
        img_suffix (str): Extension of the images. Default: '.jpg'.

    Returns:
        tuple[str, list[int]]: The name and the image's tags: its classes
        (of the boxes, else of the CAMs), and 0 where background was
        labelled.
    """
    cams, keys = load_cam_file(osp.join(cam_dir, name + '.npz'))
    if box_dir is not None:
        img_boxes = (boxes or {}).get(name)
        label = box_labels_of_image(name, cams, keys, img_boxes, box_dir, rule)
        classes = {b[0] for b in img_boxes}
    else:
        image = None
        if rule.crf:
            image = read_cam_image(img_dir, name + img_suffix, cams.shape)
        label = rule.tag_labels(cams, keys, image)
        classes = set(keys.tolist())
    label = label.numpy().astype(np.uint8)
    if rule.unlabelled_as_background:
        label[label == UNLABELLED] = 0
    save_label_png(osp.join(out_dir, name + '.png'), label, VOC_LABEL_PALETTE)
    present = set(np.unique(label).tolist())
    return name, sorted(({0} & present) | classes)
