# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/build_knn_memory.py and the segmentor's KNN prediction."""

import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_spml.refinement import load_memory
from tests.helpers.tools import ROOT, load_tool, python_tool, run

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')


def test_memory_from_weak_labels_then_knn_prediction(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    cfg = Config.fromfile(TINY_SPML)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    memory = tmp_path / 'memory.pth'
    tool = load_tool('build_knn_memory.py')
    args = [TINY_SPML, str(ckpt), '--out', str(memory), '--grid', '2', '2']
    assert tool.main(args) == 0
    protos, labels, meta = load_memory(str(memory))
    assert meta['num_images'] == 4
    assert 'weak_scribbles' in meta['labels']  # never the full masks
    assert protos.shape[1] == 64 and len(labels) == len(protos) <= 4 * 4
    assert ((labels < 7) | (labels == 254)).all()

    # KNN prediction with that memory only predicts labels it holds.
    cfg.model.knn = dict(memory=str(memory), k=3, grid=(2, 2))
    knn_model = MODELS.build(cfg.model)
    knn_model.load_state_dict(model.state_dict())
    knn_model.eval()
    inputs = [torch.randint(0, 256, (3, 32, 32)).float() for _ in range(2)]
    samples = [
        SegDataSample(
            metainfo=dict(
                img_shape=(32, 32), ori_shape=(32, 32), pad_shape=(32, 32)
            )
        )
        for _ in range(2)
    ]
    with torch.no_grad():
        out = knn_model.test_step(dict(inputs=inputs, data_samples=samples))
    pred = torch.stack([o.pred_sem_seg.data for o in out])
    assert pred.shape == (2, 1, 32, 32)
    voters = set(labels[labels < 7].tolist())
    assert set(pred.unique().tolist()) <= voters

    # No weak labels: the tool refuses (it never falls back to full masks).
    capsys.readouterr()
    assert (
        tool.main(
            args + ['--cfg-options', 'train_dataloader.dataset.weak=None']
        )
        == 1
    )
    assert 'weak or pseudo labels' in capsys.readouterr().out


def test_knn_and_classifier_predict_through_tta(tmp_path, monkeypatch):
    """tools/test.py --tta (SPMLTTAModel: scales and flips) runs in both
    prediction modes, and the CRF switch refines predictions."""
    data = str(tmp_path / 'data')
    monkeypatch.setenv('MMSEG_SPML_DATA', data)
    cfg = Config.fromfile(TINY_SPML)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    memory = tmp_path / 'memory.pth'
    load_tool('build_knn_memory.py').main(
        [TINY_SPML, str(ckpt), '--out', str(memory), '--grid', '2', '2']
    )
    base = python_tool(
        'test.py', TINY_SPML, str(ckpt), '--work-dir', str(tmp_path / 'w'),
        '--tta',
    )  # fmt: skip
    knn = [
        '--cfg-options',
        f'model.knn.memory={memory}',
        'model.knn.k=3',
        'model.knn.grid=[2,2]',
    ]
    for extra in ([], knn):
        proc = run(base + extra, data)
        assert 'mIoU:' in proc.stdout
    # The CRF switch, without and with TTA (SPMLTTAModel: one CRF on the
    # merged views).
    crf = [
        '--cfg-options',
        'model.crf.max_pixels=256',
        'model.crf.num_iters=2',
    ]
    for cmd in (base[:-1] + crf, base + crf):
        proc = run(cmd, data)
        assert 'mIoU:' in proc.stdout
