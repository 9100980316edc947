# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Superpixels like the paper's: UCM contour maps cut into regions, region
PNGs in the reference's format (8-bit grey ids, numbered from the top-left)
loaded by ``LoadSuperpixels`` through a weak training pipeline.

Fixture (tests/data/ucm/, 24 x 32): ``2007_000032_ucm.png``, a contour map
with a strong vertical contour (200) at x = 16, a weak horizontal one (100)
at y = 12 on the left half and a faint dangling edge (40); and
``2007_000032.png``, its regions at threshold 0.3 in the reference's
format: 0 top-left, 1 right half, 2 bottom-left.
"""

import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

import mmseg_spml  # noqa: F401
from mmseg_spml.datasets.superpixels import regions_from_ucm
from mmseg_spml.label_encoding import UNLABELLED
from tests.helpers.tools import ROOT, load_tool

FIXTURE = osp.join(ROOT, 'tests', 'data', 'ucm')
UCM = osp.join(FIXTURE, '2007_000032_ucm.png')
REGIONS = osp.join(FIXTURE, '2007_000032.png')


def _expected_regions():
    regions = np.full((24, 32), 1, np.int32)
    regions[:12, :16] = 0
    regions[12:, :16] = 2
    return regions


def test_regions_from_ucm_hand_computed():
    ucm = np.array(Image.open(UCM))
    regions = regions_from_ucm(ucm, 0.3)
    # Contour pixels join their nearest region: off the contours, exact.
    off = ucm == 0
    np.testing.assert_array_equal(regions[off], _expected_regions()[off])
    assert len(np.unique(regions)) == 3
    # A higher cut keeps only the strong contour; the dangling faint edge
    # never splits a region.
    assert len(np.unique(regions_from_ucm(ucm, 0.5))) == 2
    assert len(np.unique(regions_from_ucm(ucm, 0.1))) == 3
    with pytest.raises(ValueError, match=r'threshold must be in \(0, 1\]'):
        regions_from_ucm(ucm, 0.0)
    with pytest.raises(ValueError, match='no pixel of the UCM map'):
        regions_from_ucm(np.full((4, 4), 255, np.uint8), 0.5)


def test_make_superpixels_from_ucm_writes_the_reference_regions(
    tmp_path, capsys
):
    root = tmp_path / 'VOC2012'
    (root / 'ImageSets').mkdir(parents=True)
    (root / 'ImageSets' / 'train.txt').write_text('2007_000032\n')
    ucm_dir = tmp_path / 'ucm'
    ucm_dir.mkdir()
    shutil.copy(UCM, ucm_dir / '2007_000032.png')
    out = tmp_path / 'sp'
    tool = load_tool('make_superpixels.py')
    args = [str(root), '--split', 'ImageSets/train.txt', '--out', str(out)]
    assert (
        tool.main(
            args
            + ['--method', 'ucm', '--ucm-dir', str(ucm_dir)]
            + ['--threshold', '0.3']
        )
        == 0
    )
    np.testing.assert_array_equal(
        np.array(Image.open(out / '2007_000032.png')),
        np.array(Image.open(REGIONS)),
    )
    assert '"median": 3.0' in (out / 'params.json').read_text()
    # From the images, with scikit-image's Felzenszwalb.
    (root / 'JPEGImages').mkdir()
    img = np.zeros((24, 32, 3), np.uint8)
    img[:, 16:] = 255
    Image.fromarray(img).save(root / 'JPEGImages' / '2007_000032.jpg')
    assert tool.main(args + ['--param', 'scale=50', 'min_size=5']) == 0
    regions = np.array(Image.open(out / '2007_000032.png'))
    assert regions[0, 0] != regions[0, 31]
    with pytest.raises(SystemExit):
        tool.main(args + ['--method', 'ucm'])
    assert '--method ucm needs --ucm-dir' in capsys.readouterr().err


def test_reference_region_pngs_through_a_training_pipeline(tmp_path):
    init_default_scope('mmseg')
    for sub in ('img', 'weak', 'sp'):
        (tmp_path / sub).mkdir()
    Image.new('RGB', (32, 24)).save(tmp_path / 'img' / '2007_000032.jpg')
    weak = np.full((24, 32), UNLABELLED, np.uint8)
    weak[2:4, 2:12] = 1
    weak[20:22, 2:30] = 0
    Image.fromarray(weak).save(tmp_path / 'weak' / '2007_000032.png')
    shutil.copy(REGIONS, tmp_path / 'sp' / '2007_000032.png')
    (tmp_path / 'train.txt').write_text('2007_000032\n')
    dataset = DATASETS.build(
        dict(
            type='WeakSegDataset',
            data_root=str(tmp_path),
            ann_file='train.txt',
            data_prefix=dict(
                img_path='img',
                seg_map_path='img',
                weak_path='weak',
                superpixel_path='sp',
            ),
            metainfo=dict(classes=('background', 'plane')),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadWeakAnnotations'),
                dict(type='LoadSuperpixels'),
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
                dict(type='Pad', size=(32, 32)),
                dict(type='PadExtraSegFields'),
                dict(type='PackWeakSegInputs'),
            ],
        )
    )
    sample = dataset[0]['data_samples']
    regions = sample.gt_superpixel.data[0].numpy()
    assert regions.shape == (32, 32)
    # Flipped with the image and padded: the right half (1) is now left.
    expected = np.fliplr(np.array(Image.open(REGIONS)).astype(np.int64))
    np.testing.assert_array_equal(regions[:24], expected)
    assert (regions[24:] < 0).all()  # padding is no region
    assert sample.gt_sem_seg.data[0, 2, 31 - 2] == 1
