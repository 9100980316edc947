# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Converters of public weak-annotation formats, on fixture files written in
those formats."""

import json
import os

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image
from scipy.io import savemat

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets.converters import (
    VOC_CLASSES,
    ClassList,
    load_class_list,
    parse_clicks,
    parse_scribblesup_xml,
    parse_voc_boxes,
    rasterize_boxes,
    rasterize_clicks,
    rasterize_scribbles,
    read_sbd_mat,
    shorten_scribble,
    voc_class_id,
)
from mmseg_spml.label_encoding import UNLABELLED
from tests.helpers.tools import load_tool

SCRIBBLE_XML = """<annotation>
  <folder>anno</folder><filename>2007_000032.png</filename>
  <size><width>12</width><height>8</height><depth>3</depth></size>
  <segmented>1</segmented>
  <polygon><tag>background</tag>
    <point><X>0</X><Y>7</Y></point><point><X>11</X><Y>7</Y></point>
  </polygon>
  <polygon><tag>plane</tag>
    <point><X>2</X><Y>2</Y></point><point><X>6</X><Y>2</Y></point>
    <point><X>6</X><Y>5</Y></point>
  </polygon>
  <polygon><tag>person</tag><point><X>30</X><Y>-4</Y></point></polygon>
</annotation>"""

VOC_XML = """<annotation><filename>2007_000032.jpg</filename>
  <size><width>10</width><height>6</height><depth>3</depth></size>
  <object><name>aeroplane</name><difficult>0</difficult>
    <bndbox><xmin>2</xmin><ymin>1</ymin><xmax>4</xmax><ymax>3</ymax></bndbox>
  </object>
  <object><name>person</name>
    <bndbox><xmin>4</xmin><ymin>3</ymin><xmax>12</xmax><ymax>6</ymax></bndbox>
  </object>
</annotation>"""


def test_voc_class_names_and_aliases():
    assert voc_class_id('background', 'f') == 0
    assert voc_class_id('Plane', 'f') == voc_class_id('aeroplane', 'f') == 1
    assert voc_class_id('tv monitor', 'f') == 20
    with pytest.raises(ValueError, match="f: unknown class name 'cart'"):
        voc_class_id('cart', 'f')


def test_scribblesup_hand_computed(tmp_path):
    path = tmp_path / '2007_000032.xml'
    path.write_text(SCRIBBLE_XML)
    shape, scribbles = parse_scribblesup_xml(str(path))
    assert shape == (8, 12)
    assert [c for c, _ in scribbles] == [0, 1, 15]
    label = rasterize_scribbles(shape, scribbles, thickness=1)
    expected = np.full((8, 12), UNLABELLED, np.uint8)
    expected[7, :] = 0
    expected[2, 2:7] = 1
    expected[2:6, 6] = 1
    expected[0, 11] = 15  # (30, -4) clipped to the top-right corner
    np.testing.assert_array_equal(label, expected)
    thick = rasterize_scribbles(shape, scribbles, thickness=3)
    assert (thick == 1).sum() > (label == 1).sum()


@pytest.mark.parametrize(
    'text, match',
    [
        ('<annotation>', 'not valid XML'),
        ('<annotation><polygon/></annotation>', 'no <size>'),
        (
            '<annotation><size><width>4</width><height>x</height></size>'
            '</annotation>',
            "<height> is 'x'",
        ),
        (
            '<annotation><size><width>4</width><height>4</height></size>'
            '<polygon><point><X>1</X><Y>1</Y></point></polygon></annotation>',
            'has no <tag>',
        ),
    ],
)
def test_scribblesup_errors_name_the_file(tmp_path, text, match):
    path = tmp_path / 'bad.xml'
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as err:
        parse_scribblesup_xml(str(path))
    assert 'bad.xml' in str(err.value)


def test_scribblesup_cli(tmp_path):
    xml_dir = tmp_path / 'pascal_2012'
    xml_dir.mkdir()
    (xml_dir / '2007_000032.xml').write_text(SCRIBBLE_XML)
    (xml_dir / '2007_000033.xml').write_text(
        '<annotation><size><width>3</width><height>2</height></size>'
        '</annotation>'
    )
    out = tmp_path / 'out'
    load_tool('dataset_converters/scribblesup.py').main(
        [str(xml_dir), '--out', str(out), '--thickness', '1']
    )
    label = np.array(Image.open(out / '2007_000032.png'))
    assert label[2, 4] == 1 and label[7, 0] == 0
    tags = json.load(open(out / 'tags.json'))
    assert tags == {'2007_000032': [0, 1, 15], '2007_000033': []}
    with pytest.raises(SystemExit, match='no .xml files'):
        load_tool('dataset_converters/scribblesup.py').main(
            [str(tmp_path), '--out', str(out)]
        )


def test_whats_the_point_hand_computed():
    clicks = parse_clicks(
        [
            {'x': 3, 'y': 1, 'cls': 15, 'rank': 2},
            {'x': 0.6, 'y': 2, 'cls': 1, 'rank': 1},
            {'x': 40, 'y': 1, 'cls': 3, 'rank': 3},
        ],
        'f:img',
    )
    assert clicks == [(1, 1, 2), (15, 3, 1), (3, 40, 1)]
    label, dropped = rasterize_clicks((4, 5), clicks, radius=0)
    expected = np.full((4, 5), UNLABELLED, np.uint8)
    expected[2, 1] = 1
    expected[1, 3] = 15
    np.testing.assert_array_equal(label, expected)
    assert dropped == 1
    disk, _ = rasterize_clicks((4, 5), clicks[:1], radius=1)
    assert (disk == 1).sum() == 5  # the pixel and its 4 neighbours
    with pytest.raises(ValueError, match='f:img: click 0 has cls 21'):
        parse_clicks([{'x': 1, 'y': 1, 'cls': 21}], 'f:img')
    # Background clicks (cls 0) are accepted.
    assert parse_clicks([{'x': 1, 'y': 1, 'cls': 0}], 'f:img') == [(0, 1, 1)]
    with pytest.raises(ValueError, match='needs numeric'):
        parse_clicks([{'x': 1, 'cls': 2}], 'f:img')


def test_whats_the_point_cli(tmp_path, capsys):
    root = tmp_path / 'VOC2012'
    (root / 'JPEGImages').mkdir(parents=True)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    for name in ('a', 'b'):
        Image.new('RGB', (20, 10)).save(root / 'JPEGImages' / f'{name}.jpg')
    (root / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('a\nb\n')
    json_file = tmp_path / 'points.json'
    json_file.write_text(json.dumps({'a': [{'x': 5, 'y': 5, 'cls': 7}]}))
    out = tmp_path / 'out'
    tool = load_tool('dataset_converters/whats_the_point.py')
    init_default_scope('mmseg')
    tool.main([str(json_file), str(root), '--out', str(out), '--radius', '2'])
    a = np.array(Image.open(out / 'a.png'))
    assert a.shape == (10, 20) and a[5, 5] == 7 and (a == 7).sum() == 13
    assert (np.array(Image.open(out / 'b.png')) == UNLABELLED).all()
    assert json.load(open(out / 'tags.json')) == {'a': [7], 'b': []}
    assert 'no map has a background label' in capsys.readouterr().err
    # Trained on as is, the segmenter would never see background: refused.
    dataset = dict(
        type='WeakSegDataset',
        data_root=str(root),
        ann_file='ImageSets/Segmentation/train.txt',
        data_prefix=dict(
            img_path='JPEGImages',
            seg_map_path='SegmentationClass',
            weak_path=str(out),
        ),
        tags_file=str(out / 'tags.json'),
        metainfo=dict(classes=VOC_CLASSES),
    )
    with pytest.raises(
        ValueError, match='has the background class 0.*--length-ratio 0'
    ):
        DATASETS.build(dataset)
    assert len(DATASETS.build(dict(dataset, require_background=False))) == 2
    # With a background click, it trains.
    json_file.write_text(
        json.dumps(
            {'a': [{'x': 5, 'y': 5, 'cls': 7}, {'x': 1, 'y': 1, 'cls': 0}]}
        )
    )
    tool.main([str(json_file), str(root), '--out', str(out)])
    assert 'background' not in capsys.readouterr().err
    assert len(DATASETS.build(dataset)) == 2
    json_file.write_text('[1, 2]')
    with pytest.raises(SystemExit, match='must map image ids'):
        tool.main([str(json_file), str(root), '--out', str(out)])
    os.remove(root / 'JPEGImages' / 'b.jpg')
    json_file.write_text('{}')
    with pytest.raises(SystemExit, match='image .*b.jpg of b does not'):
        tool.main([str(json_file), str(root), '--out', str(out)])


def test_voc_boxes_hand_computed(tmp_path):
    path = tmp_path / 'a.xml'
    path.write_text(VOC_XML)
    shape, boxes = parse_voc_boxes(str(path))
    assert shape == (6, 10)
    # 1-based inclusive -> 0-based inclusive, clipped to the image.
    assert boxes == [(1, 1, 0, 3, 2), (15, 3, 2, 9, 5)]
    label, tags = rasterize_boxes(shape, boxes)
    expected = np.zeros((6, 10), np.uint8)
    expected[0:3, 1:4] = UNLABELLED
    expected[2:6, 3:10] = UNLABELLED
    np.testing.assert_array_equal(label, expected)
    assert tags == [0, 1, 15]
    path.write_text(VOC_XML.replace('<xmax>4</xmax>', '<xmax>z</xmax>'))
    with pytest.raises(ValueError, match=r'a.xml: <object> 0 \(aeroplane\)'):
        parse_voc_boxes(str(path))


def test_voc_boxes_cli_and_empty_xml(tmp_path):
    root = tmp_path / 'VOC2012'
    (root / 'Annotations').mkdir(parents=True)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    (root / 'Annotations' / 'a.xml').write_text(VOC_XML)
    (root / 'Annotations' / 'e.xml').write_text(
        '<annotation><size><width>3</width><height>2</height></size>'
        '</annotation>'
    )
    (root / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('a\ne\n')
    tool = load_tool('dataset_converters/voc_boxes.py')
    out = tmp_path / 'out'
    with pytest.raises(SystemExit, match='e.xml has no <object>'):
        tool.main([str(root), '--out', str(out)])
    tool.main([str(root), '--out', str(out), '--allow-empty'])
    assert (np.array(Image.open(out / 'e.png')) == 0).all()
    assert json.load(open(out / 'tags.json')) == {'a': [0, 1, 15], 'e': [0]}
    assert json.load(open(out / 'boxes.json'))['a'][1] == [15, 3, 2, 9, 5]


def test_sbd(tmp_path):
    cls = np.zeros((5, 7), np.uint8)
    cls[1:3, 2:5] = 12
    inst = (cls > 0).astype(np.uint8)
    (tmp_path / 'cls').mkdir()
    (tmp_path / 'inst').mkdir()
    savemat(
        tmp_path / 'cls' / '2008_000002.mat',
        {'GTcls': {'Segmentation': cls, 'CategoriesPresent': [12]}},
    )
    savemat(
        tmp_path / 'inst' / '2008_000002.mat',
        {'GTinst': {'Segmentation': inst, 'Categories': [12]}},
    )
    np.testing.assert_array_equal(
        read_sbd_mat(str(tmp_path / 'cls' / '2008_000002.mat')), cls
    )
    with pytest.raises(ValueError, match='has no GTcls.Segmentation'):
        read_sbd_mat(str(tmp_path / 'inst' / '2008_000002.mat'))
    out = tmp_path / 'VOC2012'
    load_tool('dataset_converters/sbd.py').main(
        [str(tmp_path), str(out), '--instances']
    )
    np.testing.assert_array_equal(
        np.array(Image.open(out / 'SegmentationClassAug' / '2008_000002.png')),
        cls,
    )
    np.testing.assert_array_equal(
        np.array(
            Image.open(out / 'SegmentationObjectAug' / '2008_000002.png')
        ),
        inst,
    )


@pytest.mark.parametrize(
    'tool', ['scribblesup', 'whats_the_point', 'voc_boxes', 'sbd']
)
def test_help(tool, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_tool(f'dataset_converters/{tool}.py').main(['--help'])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert '--nproc' in out and 'Example:' in out


def test_shorten_scribble_hand_computed():
    # An L of length 10: 6 along x, then 4 along y.
    pts = np.array([[0, 0], [6, 0], [6, 4]])
    np.testing.assert_array_equal(shorten_scribble(pts, 1.0), pts)
    # Length 0: the point halfway along (arc length 5).
    np.testing.assert_array_equal(shorten_scribble(pts, 0.0), [[5, 0]])
    # The central 60 %: arc length 2 .. 8, through the corner.
    np.testing.assert_array_equal(
        shorten_scribble(pts, 0.6), [[2, 0], [6, 0], [6, 2]]
    )
    np.testing.assert_array_equal(shorten_scribble(pts[:1], 0.0), pts[:1])
    with pytest.raises(ValueError, match=r'length ratio must be in \[0, 1\]'):
        shorten_scribble(pts, 1.5)


def test_scribblesup_points_keep_background_scribbles(tmp_path):
    xml_dir = tmp_path / 'pascal_2012'
    xml_dir.mkdir()
    (xml_dir / '2007_000032.xml').write_text(SCRIBBLE_XML)
    out = tmp_path / 'points'
    load_tool('dataset_converters/scribblesup.py').main(
        [str(xml_dir), '--out', str(out), '--length-ratio', '0']
        + ['--thickness', '1']
    )
    label = np.array(Image.open(out / '2007_000032.png'))
    # One pixel per scribble, at its middle: background (0..11 along y=7),
    # plane (arc length 7 from (2,2) via (6,2) to (6,5): middle (5.5, 2)),
    # person (a one-point scribble clipped into the image).
    labelled = {
        (int(y), int(x)): int(label[y, x])
        for y, x in zip(*np.nonzero(label != UNLABELLED))
    }
    assert labelled == {(7, 6): 0, (2, 6): 1, (0, 11): 15}
    tags = json.load(open(out / 'tags.json'))
    assert tags == {'2007_000032': [0, 1, 15]}


def test_class_lists_from_a_file_and_a_config(tmp_path):
    names = tmp_path / 'classes.txt'
    names.write_text('# my data set\nbackground\n\nTraffic Light\ncar\n')
    classes = load_class_list(str(names))
    assert classes.names == ('background', 'Traffic Light', 'car')
    assert classes.id_of('traffic_light', 'f.xml') == 1
    assert len(classes.palette) == 256 * 3
    with pytest.raises(
        ValueError, match=r"f.xml: unknown class name 'bus'.*classes.txt"
    ):
        classes.id_of('bus', 'f.xml')
    config = tmp_path / 'cfg.py'
    config.write_text(
        'train_dataloader = dict(dataset=dict(metainfo=dict('
        "classes=('background', 'cat', 'dog'))))\n"
    )
    assert load_class_list(str(config)).names == ('background', 'cat', 'dog')
    config.write_text('x = 1\n')
    with pytest.raises(ValueError, match='cfg.py defines no classes'):
        load_class_list(str(config))
    with pytest.raises(FileNotFoundError, match='class list .*none.txt'):
        load_class_list(str(tmp_path / 'none.txt'))
    with pytest.raises(ValueError, match=r"repeated: \['car'\]"):
        ClassList(('background', 'car', 'Car'))
    assert load_class_list(None).names[15] == 'person'


def test_voc_boxes_with_a_custom_class_list(tmp_path):
    root = tmp_path / 'data'
    (root / 'Annotations').mkdir(parents=True)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    xml = VOC_XML.replace('aeroplane', 'drone').replace('person', 'kite')
    (root / 'Annotations' / 'a.xml').write_text(xml)
    (root / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('a\n')
    tool = load_tool('dataset_converters/voc_boxes.py')
    out = tmp_path / 'out'
    with pytest.raises(SystemExit, match="unknown class name 'drone'"):
        tool.main([str(root), '--out', str(out)])
    names = tmp_path / 'classes.txt'
    names.write_text('background\nkite\ndrone\n')
    tool.main([str(root), '--out', str(out), '--classes', str(names)])
    assert json.load(open(out / 'boxes.json'))['a'] == [
        [2, 1, 0, 3, 2],
        [1, 3, 2, 9, 5],
    ]
    assert json.load(open(out / 'tags.json')) == {'a': [0, 1, 2]}
