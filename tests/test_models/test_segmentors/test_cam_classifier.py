# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_spml  # noqa: F401
from mmseg_spml.models.segmentors import image_tag_targets


def _model(bg_power=6.0, test_cfg=None):
    init_default_scope('mmseg')
    return MODELS.build(
        dict(
            type='CAMClassifier',
            data_preprocessor=dict(type='SegDataPreProcessor', size=(16, 16)),
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                stem_channels=8,
                base_channels=8,
                out_indices=(3,),
                norm_cfg=dict(type='BN', requires_grad=True),
            ),
            num_classes=4,
            in_channels=64,
            bg_power=bg_power,
            test_cfg=test_cfg,
        )
    )


def _samples(tags=((0, 2), (1, 3)), size=16):
    samples = []
    for t in tags:
        meta = dict(
            img_shape=(size, size), pad_shape=(size, size),
            ori_shape=(size, size),
        )  # fmt: skip
        if t is not None:
            meta['img_tags'] = list(t)
        gt = PixelData(data=torch.zeros(1, size, size, dtype=torch.long))
        samples.append(SegDataSample(gt_sem_seg=gt, metainfo=meta))
    return samples


def test_targets_are_foreground_multi_hot():
    targets = image_tag_targets(_samples(((0, 2), (1, 3), ())), 4)
    expected = torch.tensor([[0, 1, 0], [1, 0, 1], [0, 0, 0]]).float()
    assert torch.equal(targets, expected)
    with pytest.raises(ValueError, match='outside the 4 classes'):
        image_tag_targets(_samples(((4,),)), 4)
    with pytest.raises(KeyError, match='img_tags'):
        image_tag_targets(_samples((None,)), 4)


def test_train_step_is_the_soft_margin_loss_of_the_pooled_logits():
    model = _model()
    data = dict(
        inputs=[torch.rand(3, 16, 16) * 255 for _ in range(2)],
        data_samples=_samples(),
    )
    batch = model.data_preprocessor(data, True)
    logits = model._forward(batch['inputs'])
    assert logits.shape == (2, 3)
    targets = torch.tensor([[0, 1, 0], [1, 0, 1]]).float()
    # -mean_c [y log s(x) + (1 - y) log s(-x)], by hand.
    sig = torch.sigmoid(logits)
    by_hand = -(targets * sig.log() + (1 - targets) * (1 - sig).log())
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert losses['loss_cls'].item() == pytest.approx(
        by_hand.mean().item(), rel=1e-5
    )
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = model.classifier.weight.detach().clone()
    log = model.train_step(data, optim)
    assert torch.isfinite(log['loss_cls'])
    assert not torch.equal(before, model.classifier.weight)


def test_predict_gives_normalised_cams_of_the_tags_and_background():
    model = _model(bg_power=2.0).eval()
    with torch.no_grad():
        model.classifier.weight.uniform_(0.1, 1.0)  # positive CAMs
    data = dict(
        inputs=[torch.rand(3, 16, 16) * 255 for _ in range(2)],
        data_samples=_samples(((0, 2), ())),
    )
    with torch.no_grad():
        out = model.test_step(data)
    scores = out[0].seg_logits.data
    assert scores.shape == (4, 16, 16)
    # Only class 2 is tagged: classes 1 and 3 are zero, class 2 peaks at 1.
    assert scores[1].abs().max() == 0 and scores[3].abs().max() == 0
    assert scores[2].max().item() == pytest.approx(1.0, abs=1e-4)
    torch.testing.assert_close(scores[0], (1 - scores[2]) ** 2)
    # No tags at all: every pixel is background.
    assert (out[1].pred_sem_seg.data == 0).all()


def test_validation_scores_the_cams_of_the_test_cfg_views():
    """Predict averages the views tools/make_cams.py writes: each scale's
    CAMs and those of its flip, brought back to the input size."""
    model = _model(test_cfg=dict(scales=(1.0, 2.0), flip=True)).eval()
    assert model.test_cfg == dict(scales=(1.0, 2.0), flip=True)
    with torch.no_grad():
        model.classifier.weight.uniform_(0.1, 1.0)  # positive CAMs
    inputs = torch.rand(2, 3, 16, 16)

    def view(x, scale):
        x = F.interpolate(x, scale_factor=scale, mode='bilinear')
        return F.interpolate(model.cams(x), size=(16, 16), mode='bilinear')

    with torch.no_grad():
        by_hand = (
            sum(
                view(inputs, s) + view(inputs.flip(3), s).flip(3)
                for s in (1.0, 2.0)
            )
            / 4
        )
        torch.testing.assert_close(model.multi_scale_cams(inputs), by_hand)
        # Explicit views override the test_cfg; 1x unflipped is the CAM.
        torch.testing.assert_close(
            model.multi_scale_cams(inputs, (1.0,), False), view(inputs, 1.0)
        )
        metas = [dict(img_tags=[0, 1, 3])] * 2
        scores = model.encode_decode(inputs, metas)
    peak = by_hand.flatten(2).amax(2)[:, :, None, None]
    assert (peak > 0).all()
    torch.testing.assert_close(scores[:, 1], by_hand[:, 0] / peak[:, 0])
    torch.testing.assert_close(scores[:, 3], by_hand[:, 2] / peak[:, 2])
    assert scores[:, 2].abs().max() == 0


def test_default_views_are_irn_and_bad_test_cfg_is_an_error():
    assert _model().test_cfg == dict(scales=(1.0, 0.5, 1.5, 2.0), flip=True)
    with pytest.raises(ValueError, match=r"unknown keys \['mode'\]"):
        _model(test_cfg=dict(mode='whole'))
    with pytest.raises(ValueError, match='scales must be positive'):
        _model(test_cfg=dict(scales=(0,)))
