# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Box annotations end to end: VOC detection XML -> voc_boxes.py ->
CAMs -> make_pseudo_masks.py --boxes -> foreground labels in the boxes."""

import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from mmseg_spml.datasets.box_labels import box_map, filled_box_labels
from mmseg_spml.label_encoding import UNLABELLED
from tests.helpers.tools import load_tool

H, W = 20, 30
# VOC class ids: car 7, cat 8, dog 12, person 15. Boxes 1-based inclusive
# as in VOC's XML: (name, xmin, ymin, xmax, ymax).
OBJECTS = {
    # A person and a dog that overlap (x 10..14, y 8..16, 1-based).
    'a': [('person', 3, 3, 14, 16), ('dog', 10, 8, 25, 18)],
    # Two overlapping cats and a car overlapping one of them.
    'b': [
        ('cat', 2, 2, 12, 12),
        ('cat', 8, 6, 18, 16),
        ('car', 16, 4, 29, 19),
    ],
    # One dog in a corner.
    'c': [('dog', 1, 1, 10, 8)],
}
CLASS_IDS = dict(car=7, cat=8, dog=12, person=15)


def _xml(objects):
    body = ''.join(
        f'<object><name>{name}</name><bndbox><xmin>{x1}</xmin>'
        f'<ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>'
        '</object>'
        for name, x1, y1, x2, y2 in objects
    )
    return (
        f'<annotation><size><width>{W}</width><height>{H}</height>'
        f'<depth>3</depth></size>{body}</annotation>'
    )


def _boxes(name):
    """0-based inclusive boxes of an image."""
    return [
        (CLASS_IDS[n], x1 - 1, y1 - 1, x2 - 1, y2 - 1)
        for n, x1, y1, x2, y2 in OBJECTS[name]
    ]


def _blob_cams(boxes):
    """float16 (K, H, W) CAMs with a Gaussian blob at each box's centre
    (sigma a quarter of the box's size), max-normalised, as make_cams.py
    writes them; int64 (K, ) keys."""
    keys = sorted({b[0] for b in boxes})
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    cams = np.zeros((len(keys), H, W))
    for cls, x1, y1, x2, y2 in boxes:
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        sx, sy = (x2 - x1 + 1) / 4, (y2 - y1 + 1) / 4
        blob = np.exp(-(((xs - cx) / sx) ** 2 + ((ys - cy) / sy) ** 2) / 2)
        k = keys.index(cls)
        cams[k] = np.maximum(cams[k], blob)
    cams /= cams.max(axis=(1, 2), keepdims=True)
    return cams.astype(np.float16), np.asarray(keys, np.int64)


def _png(path):
    return np.array(Image.open(path))


@pytest.fixture()
def voc(tmp_path):
    """VOC layout with detection XML, converted by voc_boxes.py, and CAM
    files; returns (cam dir, box dir)."""
    root = tmp_path / 'VOC2012'
    (root / 'Annotations').mkdir(parents=True)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    for name, objects in OBJECTS.items():
        (root / 'Annotations' / f'{name}.xml').write_text(_xml(objects))
    split = root / 'ImageSets' / 'Segmentation' / 'train.txt'
    split.write_text('\n'.join(OBJECTS) + '\n')
    box_dir = tmp_path / 'boxes'
    tool = load_tool('dataset_converters/voc_boxes.py')
    assert tool.main([str(root), '--out', str(box_dir)]) == 0
    cam_dir = tmp_path / 'cams'
    cam_dir.mkdir()
    for name in OBJECTS:
        cams, keys = _blob_cams(_boxes(name))
        np.savez_compressed(cam_dir / f'{name}.npz', cams=cams, keys=keys)
    return str(cam_dir), str(box_dir)


def test_voc_boxes_to_cam_in_box_labels(voc, tmp_path):
    cam_dir, box_dir = voc
    # The converter's outputs: 0/254 maps and the box list.
    listed = json.load(open(osp.join(box_dir, 'boxes.json')))
    for name in OBJECTS:
        assert listed[name] == [list(b) for b in _boxes(name)]
        np.testing.assert_array_equal(
            _png(osp.join(box_dir, f'{name}.png')),
            box_map((H, W), _boxes(name)),
        )
    out = tmp_path / 'out'
    tool = load_tool('make_pseudo_masks.py')
    assert tool.main([cam_dir, '--boxes', box_dir, '--out', str(out)]) == 0
    tags = json.load(open(out / 'tags.json'))
    assert tags == {'a': [0, 12, 15], 'b': [0, 7, 8], 'c': [0, 12]}
    for name in OBJECTS:
        label = _png(out / f'{name}.png')
        boxes = _boxes(name)
        inside = box_map((H, W), boxes) != 0
        # Background outside every box.
        assert (label[~inside] == 0).all()
        # Each box's centre is its class, and class c only inside c's
        # boxes.
        for cls, x1, y1, x2, y2 in boxes:
            assert label[(y1 + y2) // 2, (x1 + x2) // 2] == cls
        for cls in set(np.unique(label).tolist()) - {0, UNLABELLED}:
            own = box_map((H, W), [b for b in boxes if b[0] == cls]) != 0
            assert own[label == cls].all(), (name, cls)
        # Box corners that lie in no other box, where the blobs fade, are
        # unlabelled or background, not foreground.
        for i, (_, x1, y1, x2, y2) in enumerate(boxes):
            others = box_map((H, W), boxes[:i] + boxes[i + 1 :]) != 0
            for y, x in ((y1, x1), (y1, x2), (y2, x1), (y2, x2)):
                if not others[y, x]:
                    assert label[y, x] in (0, UNLABELLED), (name, y, x)
        assert (label[inside] == UNLABELLED).any()
    # The overlap of person and dog in a (x 9..13, y 7..15) is shared:
    # each pixel goes to the class whose box-normalised CAM is higher.
    overlap = _png(out / 'a.png')[7:16, 9:14]
    assert {12, 15} <= set(np.unique(overlap).tolist())


def test_box_errors_name_the_file(voc, tmp_path):
    cam_dir, box_dir = voc
    tool = load_tool('make_pseudo_masks.py')
    out = str(tmp_path / 'out')

    def run(boxes):
        return tool.main([cam_dir, '--boxes', boxes, '--out', out])

    # A map that is not a 0/254/255 box map (here: filled with classes).
    bad = str(tmp_path / 'bad_map')
    shutil.copytree(box_dir, bad)
    Image.fromarray(filled_box_labels((H, W), _boxes('b'))).save(
        osp.join(bad, 'b.png')
    )
    with pytest.raises(
        SystemExit, match=r'box map .*bad_map/b.png has values \[7, 8\]'
    ):
        run(bad)
    # No boxes.json.
    missing = str(tmp_path / 'no_json')
    shutil.copytree(box_dir, missing)
    os.remove(osp.join(missing, 'boxes.json'))
    with pytest.raises(
        SystemExit,
        match=r'no_json/boxes.json does not exist; it is written by '
        r'tools/dataset_converters/voc_boxes.py',
    ):
        run(missing)
    # An image of the CAMs that boxes.json does not list.
    partial = str(tmp_path / 'partial')
    shutil.copytree(box_dir, partial)
    listed = json.load(open(osp.join(partial, 'boxes.json')))
    del listed['b']
    with open(osp.join(partial, 'boxes.json'), 'w') as f:
        json.dump(listed, f)
    with pytest.raises(
        SystemExit, match=r'image b is not in .*partial/boxes.json'
    ):
        run(partial)
    # A box class without a CAM.
    cams, keys = _blob_cams(_boxes('a'))
    np.savez_compressed(
        osp.join(cam_dir, 'a.npz'), cams=cams[1:], keys=keys[1:]
    )
    with pytest.raises(
        SystemExit, match=r'a \(.*boxes.json\): boxes of class\(es\) \[12\]'
    ):
        run(box_dir)
