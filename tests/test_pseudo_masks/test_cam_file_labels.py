# Copyright (c) mmseg-spml contributors. All rights reserved.
"""CAM files to pseudo-label PNGs (the library under make_pseudo_masks)."""

import numpy as np
import pytest
import torch
from PIL import Image

from mmseg_spml.label_encoding import UNLABELLED
from mmseg_spml.pseudo_masks import save_cam_file
from mmseg_spml.pseudo_masks.cam_file_labels import (
    CamLabelRule,
    write_cam_file_labels,
)
from tests.helpers.cam_scenes import spilling_cam_scene


def test_rule_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="method must be one of .*'otsu'"):
        CamLabelRule(method='otsu')


def test_tag_rules_on_one_cam():
    cams = torch.tensor([[[0.0, 0.1, 0.9, 1.0]]])
    keys = torch.tensor([3])
    band = CamLabelRule().tag_labels(cams, keys)
    assert band.tolist() == [[0, UNLABELLED, 3, 3]]
    # SPML's rule: background (1 - cam)^6 = 1, 0.53, 1e-6, 0: a full mask.
    rule = CamLabelRule(method='threshold')
    assert rule.tag_labels(cams, keys).tolist() == [[0, 0, 3, 3]]


def test_write_tags_and_boxes(tmp_path):
    cam_dir, out = tmp_path / 'cams', tmp_path / 'out'
    cam_dir.mkdir()
    save_cam_file(
        str(cam_dir / 'img.npz'),
        np.array([[[0.2, 0.4, 0.6, 1.0]]]),
        np.array([2]),
    )
    rule = CamLabelRule(unlabelled_as_background=True)
    name, tags = write_cam_file_labels('img', str(cam_dir), str(out), rule)
    # Band 0.30/0.05: 0.2 unlabelled, written as background.
    assert (name, tags) == ('img', [0, 2])
    assert np.array(Image.open(out / 'img.png')).tolist() == [[0, 2, 2, 2]]
    box_rule = CamLabelRule(method='threshold', threshold=0.5)
    boxes = {'img': [[2, 1, 0, 3, 0]]}
    _, tags = write_cam_file_labels(
        'img', str(cam_dir), str(out), box_rule, str(tmp_path), boxes
    )
    # Min-max inside the box: 0, 1/3, 1 -> background, unlabelled, 2.
    label = np.array(Image.open(out / 'img.png')).tolist()
    assert label == [[0, 0, UNLABELLED, 2]] and tags == [0, 2]
    with pytest.raises(ValueError, match=r'img is not in .*boxes.json'):
        write_cam_file_labels(
            'img', str(cam_dir), str(out), box_rule, str(tmp_path), {}
        )


def test_crf_rule_reads_the_image_of_each_cam_file(tmp_path):
    image, cam, keys, obj = spilling_cam_scene()
    save_cam_file(str(tmp_path / 'img.npz'), cam.numpy(), keys.numpy())
    rgb = image.permute(1, 2, 0).numpy().astype(np.uint8)
    images = tmp_path / 'images'
    images.mkdir()
    Image.fromarray(rgb).save(images / 'img.png')
    rule = CamLabelRule(crf=True)
    out = tmp_path / 'out'
    name, tags = write_cam_file_labels(
        'img', str(tmp_path), str(out), rule, img_dir=str(images),
        img_suffix='.png',
    )  # fmt: skip
    assert (name, tags) == ('img', [0, 2])
    assert np.array_equal(np.array(Image.open(out / 'img.png')), obj.numpy())
    # Without the CRF the band spills over the halo.
    plain = CamLabelRule().tag_labels(cam, keys)
    assert (plain == 2).sum() > (obj == 2).sum()
    with pytest.raises(ValueError, match=r'images/img.jpg does not exist'):
        write_cam_file_labels(
            'img', str(tmp_path), str(out), rule, img_dir=str(images)
        )
    Image.fromarray(rgb[:8]).save(images / 'img.png')
    with pytest.raises(ValueError, match=r'img.png is 8x32, its CAMs are'):
        write_cam_file_labels(
            'img', str(tmp_path), str(out), rule, img_dir=str(images),
            img_suffix='.png',
        )  # fmt: skip
    with pytest.raises(ValueError, match='needs the folder of the images'):
        write_cam_file_labels('img', str(tmp_path), str(out), rule)
    with pytest.raises(ValueError, match='needs the image of the CAMs'):
        rule.tag_labels(cam, keys)
    with pytest.raises(ValueError, match="band' method's seeds only"):
        CamLabelRule(method='threshold', crf=True)
