# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/make_pseudo_labels.py on tiny demo data with an untrained model."""

import json
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from tests.helpers.tools import ROOT, load_tool

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')


def test_pseudo_labels_respect_tags_and_annotations_and_resume(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    cfg = Config.fromfile(TINY_SPML)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    out = tmp_path / 'pseudo'
    tool = load_tool('make_pseudo_labels.py')
    args = [TINY_SPML, str(ckpt), '--out', str(out)]
    assert tool.main(args) == 0
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    tags = json.loads((out / 'tags.json').read_text())
    assert len(tags) == len(dataset) == 4
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        name = osp.splitext(osp.basename(info['img_path']))[0]
        label = np.array(Image.open(out / f'{name}.png'))
        weak = np.array(Image.open(info['weak_map_path']))
        assert label.shape == weak.shape == (32, 32)
        assert set(np.unique(label).tolist()) <= set(info['img_tags'])
        annotated = weak < 7
        assert (label[annotated] == weak[annotated]).all()
        assert tags[name] == sorted(info['img_tags'])
    capsys.readouterr()
    assert tool.main(args) == 0
    assert 'rank 0 writes 0 labels' in capsys.readouterr().out


def _untrained_stage1(tmp_path, monkeypatch):
    """The tiny SPML config and a checkpoint of its seeded initial weights
    (demo data cached under ``tmp_path``)."""
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    cfg = Config.fromfile(TINY_SPML)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    ckpt = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
    return cfg, ckpt


def test_pseudo_labels_with_crf_backends(tmp_path, monkeypatch):
    """--crf with either backend refines within the image's tags."""
    _, ckpt = _untrained_stage1(tmp_path, monkeypatch)
    tool = load_tool('make_pseudo_labels.py')
    tags = {}
    for backend in ('torch', 'pydensecrf'):
        out = tmp_path / backend
        args = [TINY_SPML, str(ckpt), '--out', str(out), '--crf', '1024']
        assert tool.main(args + ['--crf-backend', backend]) == 0
        tags[backend] = json.loads((out / 'tags.json').read_text())
        for name, image_tags in tags[backend].items():
            label = np.array(Image.open(out / f'{name}.png'))
            assert label.shape == (32, 32)
            assert set(np.unique(label).tolist()) <= set(image_tags)
    assert tags['torch'] == tags['pydensecrf']


def test_pseudo_labels_from_cams_within_boxes(tmp_path, monkeypatch, capsys):
    """--cams seeds the walk with CAM files; --boxes keeps every class in
    its boxes and makes everything outside them background."""
    from mmseg_spml.pseudo_masks import save_cam_file

    cfg, ckpt = _untrained_stage1(tmp_path, monkeypatch)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    cams, boxes = tmp_path / 'cams', {}
    classes = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        name = osp.splitext(osp.basename(info['img_path']))[0]
        classes[name] = c = max(info['img_tags'])  # a foreground tag
        cam = np.zeros((1, 32, 32), np.float32)
        cam[0, 4:20, 4:20] = 1.0  # class c in the top-left ...
        save_cam_file(str(cams / f'{name}.npz'), cam, np.array([c]))
        boxes[name] = [[c, 8, 8, 27, 27]]  # ... but its box is elsewhere
    (tmp_path / 'boxes.json').write_text(json.dumps(boxes))
    tool = load_tool('make_pseudo_labels.py')
    base = [TINY_SPML, str(ckpt), '--cams', str(cams)]
    plc = [
        '--cfg-options',
        'pseudo_label_cfg.keep_weak_labels=False',
        'pseudo_label_cfg.random_walk=None',
        'pseudo_label_cfg.crf=None',
    ]
    out = tmp_path / 'free'
    assert tool.main(base + ['--out', str(out)] + plc) == 0
    for name, c in classes.items():
        label = np.array(Image.open(out / f'{name}.png'))
        assert set(np.unique(label).tolist()) == {0, c}  # the CAM's class
        # Seeds pass through the embedding's resolution: a blurred block.
        assert label[:2].max() == 0 and (label[8:16, 8:16] == c).all()
    out = tmp_path / 'boxed'
    argv = base + ['--out', str(out), '--boxes', str(tmp_path / 'boxes.json')]
    assert tool.main(argv + plc) == 0
    for name in boxes:
        label = np.array(Image.open(out / f'{name}.png'))
        inside = np.zeros((32, 32), bool)
        inside[8:28, 8:28] = True
        assert (label[~inside] == 0).all()
        assert (label[8:16, 8:16] == classes[name]).all()
    del boxes[name]
    (tmp_path / 'boxes.json').write_text(json.dumps(boxes))
    capsys.readouterr()
    assert (
        tool.main(argv[:-4] + ['--out', str(tmp_path / 'x')] + argv[-2:]) == 1
    )
    assert f'has no boxes for image {name}' in capsys.readouterr().out


def test_pseudo_labels_seeded_by_another_segmentor(tmp_path, monkeypatch):
    """--seed-model: the seeds are a plain segmentor's softmax (here a
    DeepLabV3 whose scores are class 2 on the left half, background on the
    right), walked on the stage-1 embedding; CAMs and a seed model together
    are an error."""
    from mmseg.models.segmentors import EncoderDecoder

    _, ckpt = _untrained_stage1(tmp_path, monkeypatch)
    seed_config = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_demo.py')
    seed_ckpt = tmp_path / 'seed.pth'
    seed = MODELS.build(Config.fromfile(seed_config).model)
    torch.save(dict(state_dict=seed.state_dict()), seed_ckpt)

    def halves(self, inputs, metas):
        logits = torch.zeros(1, 7, *inputs.shape[2:])
        width = inputs.shape[3]
        logits[:, 2, :, : width // 2] = 5.0
        logits[:, 0, :, width // 2 :] = 5.0
        return logits

    monkeypatch.setattr(EncoderDecoder, 'encode_decode', halves)
    tool = load_tool('make_pseudo_labels.py')
    out = tmp_path / 'out'
    argv = [TINY_SPML, str(ckpt), '--out', str(out)]
    argv += ['--seed-model', seed_config, str(seed_ckpt)]
    options = [
        '--cfg-options',
        'pseudo_label_cfg.keep_weak_labels=False',
        'pseudo_label_cfg.random_walk=None',
        'pseudo_label_cfg.crf=None',
    ]
    assert tool.main(argv + options) == 0
    tags = json.loads((out / 'tags.json').read_text())
    tagged = {n: t for n, t in tags.items() if 0 in t and 2 in t}
    assert tagged
    for name in tagged:
        label = np.array(Image.open(out / f'{name}.png'))
        # Away from the blurred middle (the seeds pass through the
        # embedding's resolution); the other classes' constant scores
        # become 1 when divided by their maximum and lose ties to the
        # lower class ids 0 and 2.
        assert (label[:, 24:] == 0).all() and (label[:, :8] == 2).all()
    assert tool.main(argv + ['--cams', str(tmp_path)] + options) == 1
