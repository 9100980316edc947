# Copyright (c) mmseg-spml contributors. All rights reserved.
"""make_cams.py and make_pseudo_masks.py end to end on tiny data."""

import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from mmseg_spml.label_encoding import UNLABELLED
from tests.helpers.cam_scenes import spilling_cam_scene
from tests.helpers.tools import ROOT, load_tool

TINY_CAM = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_cam.py')


def _write_cams(folder, name, cams, keys):
    os.makedirs(folder, exist_ok=True)
    np.savez_compressed(
        osp.join(folder, name + '.npz'),
        cams=np.asarray(cams, np.float16),
        keys=np.asarray(keys, np.int64),
    )


def _png(path):
    return np.array(Image.open(path))


def test_make_pseudo_masks_methods_and_tags(tmp_path):
    cams = tmp_path / 'cams'
    # Class 3 fills the right half strongly, weakly the left-middle pixel.
    _write_cams(cams, 'img', [[[0.0, 0.1, 0.9, 1.0]]], [3])
    _write_cams(cams, 'empty', np.zeros((0, 1, 4)), [])
    tool = load_tool('make_pseudo_masks.py')
    # Default: the band method. 0 < 0.05 -> background, 0.1 in the band
    # -> unlabelled, 0.9 and 1.0 >= 0.30 -> class 3.
    out = tmp_path / 'band'
    assert tool.main([str(cams), '--out', str(out)]) == 0
    assert _png(out / 'img.png').tolist() == [[0, UNLABELLED, 3, 3]]
    assert _png(out / 'empty.png').tolist() == [[0, 0, 0, 0]]
    tags = json.loads((out / 'tags.json').read_text())
    assert tags == {'img': [0, 3], 'empty': [0]}
    out = tmp_path / 'band2'
    tool.main(
        [str(cams), '--out', str(out), '--fg-threshold', '0.09',
         '--bg-threshold', '0.0']
    )  # fmt: skip
    # (float16 CAMs: 0.1 is stored as 0.09998.)
    assert _png(out / 'img.png').tolist() == [[UNLABELLED, 3, 3, 3]]
    out = tmp_path / 'threshold'
    assert (
        tool.main([str(cams), '--out', str(out), '--method', 'threshold']) == 0
    )
    # background (1 - cam)^6: 1, 0.53, 1e-6, 0 -> labels 0 0 3 3.
    assert _png(out / 'img.png').tolist() == [[0, 0, 3, 3]]
    assert _png(out / 'empty.png').tolist() == [[0, 0, 0, 0]]
    tags = json.loads((out / 'tags.json').read_text())
    assert tags == {'img': [0, 3], 'empty': [0]}
    # Threshold 1: only the scores of 1 (background 1 at pixel 0, class 3
    # at pixel 3) stay; the rest is unlabelled, or background with
    # --unlabelled-as background.
    out = tmp_path / 'high'
    tool.main(
        [str(cams), '--out', str(out), '--method', 'threshold',
         '--threshold', '1.0']
    )  # fmt: skip
    assert _png(out / 'img.png').tolist() == [[0, UNLABELLED, UNLABELLED, 3]]
    out = tmp_path / 'bg'
    tool.main(
        [str(cams), '--out', str(out), '--method', 'threshold',
         '--threshold', '1.0', '--unlabelled-as', 'background']
    )  # fmt: skip
    assert _png(out / 'img.png').tolist() == [[0, 0, 0, 3]]
    for method in ('cvs', 'ppmg', 'cvs+ppmg'):
        out = tmp_path / method.replace('+', '_')
        assert (
            tool.main([str(cams), '--out', str(out), '--method', method]) == 0
        )
        label = _png(out / 'img.png')
        assert label[0, 3] == 3 and label[0, 0] == 0


def test_make_pseudo_masks_boxes_and_errors(tmp_path, capsys):
    cams = tmp_path / 'cams'
    _write_cams(cams, 'img', [[[0.2, 0.4, 0.6, 1.0]]], [2])
    boxes = tmp_path / 'boxes'
    boxes.mkdir()
    (boxes / 'boxes.json').write_text(json.dumps({'img': [[2, 1, 0, 3, 0]]}))
    box_map = np.array([[0, UNLABELLED, UNLABELLED, UNLABELLED]], np.uint8)
    Image.fromarray(box_map).save(boxes / 'img.png')
    tool = load_tool('make_pseudo_masks.py')
    out = tmp_path / 'out'
    args = [str(cams), '--out', str(out), '--boxes', str(boxes)]
    assert tool.main(args) == 0
    # Min-max inside the box (0.4, 0.6, 1.0): 0, 1/3, 1; threshold 0.5 by
    # default with --boxes: background outside and at 0, 1/3 unlabelled.
    assert _png(out / 'img.png').tolist() == [[0, 0, UNLABELLED, 2]]
    assert json.loads((out / 'tags.json').read_text()) == {'img': [0, 2]}
    # --method threshold is the same rule; --threshold is passed on.
    assert (
        tool.main(args + ['--method', 'threshold', '--threshold', '0.3']) == 0
    )
    assert _png(out / 'img.png').tolist() == [[0, 0, 2, 2]]
    # Void pixels of the box map stay void.
    box_map[0, 0] = 255
    Image.fromarray(box_map).save(boxes / 'img.png')
    assert tool.main(args) == 0
    assert _png(out / 'img.png').tolist() == [[255, 0, UNLABELLED, 2]]
    with pytest.raises(
        SystemExit, match='does not combine with --method ppmg'
    ):
        tool.main(args + ['--method', 'ppmg'])
    with pytest.raises(SystemExit, match='no CAM files'):
        tool.main([str(tmp_path / 'boxes'), '--out', str(out)])
    # The old class-id box maps are not box maps: an error, not a copy.
    Image.fromarray(np.array([[0, 2, 2, 2]], np.uint8)).save(boxes / 'img.png')
    with pytest.raises(SystemExit, match=r'img.png has values \[2\]'):
        tool.main(args)
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(boxes / 'img.png')
    with pytest.raises(SystemExit, match=r'img.png has shape \(2, 2\)'):
        tool.main(args)


def _cam_checkpoint(tmp_path, monkeypatch, init):
    """The tiny CAM config (its data under ``tmp_path``) and a checkpoint
    of its model with the classifier's weight set by ``init``."""
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    cfg = Config.fromfile(TINY_CAM)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        init(model.classifier.weight)
    ckpt = tmp_path / 'cam.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return cfg, ckpt


def test_make_cams_writes_normalised_cams_of_the_tags_and_resumes(
    tmp_path, monkeypatch, capsys
):
    cfg, ckpt = _cam_checkpoint(
        tmp_path, monkeypatch, lambda w: w.uniform_(0.1, 1.0)
    )  # positive CAMs
    tool = load_tool('make_cams.py')
    out = tmp_path / 'cams'
    args = [TINY_CAM, str(ckpt), '--out', str(out), '--scales', '1', '2']
    assert tool.main(args) == 0
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(os.listdir(out)) == len(dataset) == 4
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        name = osp.splitext(osp.basename(info['img_path']))[0]
        with np.load(out / f'{name}.npz') as data:
            keys = [t for t in info['img_tags'] if t > 0]
            assert data['keys'].tolist() == keys
            assert data['cams'].dtype == np.float16
            assert data['cams'].shape == (len(keys), 32, 32)
            if keys:
                peaks = data['cams'].reshape(len(keys), -1).max(1)
                np.testing.assert_allclose(peaks, 1.0, atol=1e-3)
    capsys.readouterr()
    assert tool.main(args) == 0
    assert '4 of 4 CAM files exist; writing 0' in capsys.readouterr().out
    bad = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_demo.py')
    assert tool.main([bad, str(ckpt), '--out', str(out)]) == 1
    assert 'not a CAMClassifier' in capsys.readouterr().out


def test_make_cams_takes_its_scales_from_the_config(
    tmp_path, monkeypatch, capsys
):
    # CAMs that differ by scale.
    cfg, ckpt = _cam_checkpoint(tmp_path, monkeypatch, lambda w: w.normal_())
    tool = load_tool('make_cams.py')

    def cams(out, *args):
        assert tool.main([TINY_CAM, str(ckpt), '--out', str(out), *args]) == 0
        return {name: np.load(out / name)['cams'] for name in os.listdir(out)}

    # The demo CAM config (tiny_cam's base) asks for the 2x view only.
    assert cfg.model.test_cfg == dict(scales=(2.0,), flip=True)
    views = 'model.test_cfg.scales'
    default = cams(tmp_path / 'd')
    given = cams(tmp_path / 'g', '--scales', '2')
    irn = cams(tmp_path / 'i', '--scales', '1', '0.5', '1.5', '2')
    irn_cfg = cams(tmp_path / 'c', '--cfg-options', f'{views}=[1,0.5,1.5,2]')
    unflipped = cams(tmp_path / 'u', '--no-flip')
    unflipped_cfg = cams(
        tmp_path / 'f', '--cfg-options', 'model.test_cfg.flip=False'
    )
    assert default.keys() == given.keys() == irn.keys() == irn_cfg.keys()
    assert any(c.size for c in given.values())
    for name in given:
        np.testing.assert_array_equal(default[name], given[name])
        np.testing.assert_array_equal(irn_cfg[name], irn[name])
        np.testing.assert_array_equal(unflipped_cfg[name], unflipped[name])
    assert any(not np.array_equal(irn[n], given[n]) for n in given)
    assert any(not np.array_equal(unflipped[n], given[n]) for n in given)
    capsys.readouterr()
    bad = [TINY_CAM, str(ckpt), '--out', str(tmp_path / 'b')]
    assert tool.main(bad + ['--cfg-options', f'{views}=[0]']) == 1
    assert (
        'tiny_cam.py: CAMClassifier test_cfg.scales must be positive'
        in capsys.readouterr().out
    )
    assert not (tmp_path / 'b').exists()


def test_make_pseudo_masks_crf_band(tmp_path, capsys):
    image, cam, keys, obj = spilling_cam_scene()
    cams = tmp_path / 'cams'
    _write_cams(cams, 'img', cam.numpy(), keys.numpy())
    images = tmp_path / 'images'
    images.mkdir()
    rgb = image.permute(1, 2, 0).numpy().astype(np.uint8)
    Image.fromarray(rgb).save(images / 'img.png')
    tool = load_tool('make_pseudo_masks.py')
    out = tmp_path / 'crf'
    args = [str(cams), '--out', str(out), '--crf', str(images)]
    assert tool.main(args + ['--img-suffix', '.png']) == 0
    assert 'band + CRF pseudo labels of 1 images' in capsys.readouterr().out
    assert np.array_equal(_png(out / 'img.png'), obj.numpy())
    with pytest.raises(SystemExit, match=r'images/img.jpg does not exist'):
        tool.main(args)
    with pytest.raises(SystemExit, match='--crf refines the band method'):
        tool.main(args + ['--method', 'threshold'])
