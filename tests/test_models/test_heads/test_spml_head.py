# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_spml  # noqa: F401
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED

SEGSORT = dict(
    type='SegSortLoss',
    kmeans_grid=(2, 2),
    kmeans_iters=3,
    relations=[
        dict(type='SemanticAnnotation'),
        dict(type='SemanticCooccurrence'),
        dict(type='LowLevelSimilarity'),
    ],
)


def _head(kind='SPMLASPPHead', **kw):
    init_default_scope('mmseg')
    cfg = dict(
        type=kind,
        in_channels=8,
        channels=4,
        num_classes=3,
        embed_dim=6,
        segsort=SEGSORT,
    )
    if kind == 'SPMLASPPHead':
        cfg['dilations'] = (1, 2)
    elif kind == 'SPMLPSPHead':
        cfg['pool_scales'] = (1, 2)
    if kind == 'SPMLSepASPPHead':
        cfg.update(
            dilations=(1, 2), in_index=1, c1_in_channels=5, c1_channels=3
        )
    cfg.update(kw)
    return MODELS.build(cfg)


def _samples(n=2, size=16, tags=True):
    samples = []
    for _ in range(n):
        label = torch.full((1, size, size), UNLABELLED)
        label[:, :3] = 1
        label[:, -3:] = 0
        label[:, :, -2:] = IGNORE_INDEX
        meta = dict(
            img_shape=(size, size),
            pad_shape=(size, size),
            ori_shape=(size, size),
        )
        if tags:
            meta['img_tags'] = [0, 1]
        s = SegDataSample(gt_sem_seg=PixelData(data=label), metainfo=meta)
        s.set_data(
            dict(
                gt_superpixel=PixelData(
                    data=torch.arange(size * size).view(1, size, size) // 32
                )
            )
        )
        samples.append(s)
    return samples


@pytest.mark.parametrize('kind', ['SPMLASPPHead', 'SPMLPSPHead'])
def test_forward_shapes_and_unit_embeddings(kind):
    head = _head(kind)
    inputs = [torch.randn(2, 8, 8, 8)]
    emb = head.embed(inputs)
    assert emb.shape == (2, 6, 16, 16)  # upsampled x2 (stride 8 -> 4)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2, 16, 16))
    assert head(inputs).shape == (2, 3, 16, 16)


@pytest.mark.parametrize('kind', ['SPMLASPPHead', 'SPMLPSPHead'])
def test_loss_keys_and_finite(kind):
    head = _head(kind)
    losses = head.loss([torch.randn(2, 8, 8, 8)], _samples(), None)
    assert {
        'loss_sem_ann',
        'loss_sem_occ',
        'loss_img_sim',
        'loss_ce',
        'acc_seg',
    } <= set(losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()


def test_sep_aspp_head_embeds_at_the_stride_of_the_low_level_features():
    head = _head('SPMLSepASPPHead')
    # inputs[0]: stride-4 features (5 channels), inputs[1]: stride 16.
    inputs = [torch.randn(2, 5, 16, 16), torch.randn(2, 8, 4, 4)]
    emb = head.embed(inputs)
    assert emb.shape == (2, 6, 16, 16)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2, 16, 16))
    # The low-level features reach the embedding.
    other = [inputs[0] + torch.randn_like(inputs[0]), inputs[1]]
    assert not torch.allclose(head.embed(other), emb)
    losses = head.loss(inputs, _samples(), None)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    assert head.c1_bottleneck.conv.weight.grad is not None


def test_classifier_does_not_train_the_embedding():
    head = _head()
    losses = head.loss([torch.randn(2, 8, 8, 8)], _samples(), None)
    losses['loss_ce'].backward()
    assert head.embed_conv.weight.grad is None
    assert head.conv_seg.weight.grad.abs().sum() > 0


def test_embedding_losses_do_not_train_the_classifier():
    head = _head()
    losses = head.loss([torch.randn(2, 8, 8, 8)], _samples(), None)
    (losses['loss_sem_ann'] + losses['loss_img_sim']).backward()
    assert head.embed_conv.weight.grad.abs().sum() > 0
    assert head.conv_seg.weight.grad is None


def test_missing_tags_is_a_clear_error():
    head = _head()
    with pytest.raises(KeyError, match='PackWeakSegInputs'):
        head.loss([torch.randn(2, 8, 8, 8)], _samples(tags=False), None)


def _ce_of(head, inputs, samples):
    """The head's classifier CE, computed by hand from its logits."""
    emb = head.embed(inputs)
    logits = torch.nn.functional.interpolate(
        head.classify(emb), size=(16, 16), mode='bilinear'
    )
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    return logits, labels


def test_config_ignore_index_and_sampler_act_on_the_classifier():
    torch.manual_seed(0)
    inputs = [torch.randn(2, 8, 8, 8)]
    samples = _samples()
    # ignore_index=1 (a class): class-1 pixels leave the CE, as unlabelled
    # and void ones do.
    ce = dict(type='CrossEntropyLoss', avg_non_ignore=True)
    head = _head(
        ignore_index=1, segsort=None, loss_decode=ce, dropout_ratio=0
    ).eval()  # deterministic: no dropout, BN on running statistics
    loss = head.loss(inputs, samples, None)['loss_ce']
    logits, labels = _ce_of(head, inputs, samples)
    keep = labels == 0
    expected = torch.nn.functional.cross_entropy(
        logits.permute(0, 2, 3, 1)[keep], labels[keep]
    )
    torch.testing.assert_close(loss, expected)
    # A pixel sampler changes which pixels count (OHEM keeps the hard
    # ones), so the loss differs from the plain one on the same weights.
    plain = _head(segsort=None)
    ohem = _head(
        segsort=None, sampler=dict(type='OHEMPixelSampler', min_kept=5)
    )
    ohem.load_state_dict(plain.state_dict())
    a = plain.loss(inputs, samples, None)['loss_ce']
    b = ohem.loss(inputs, samples, None)['loss_ce']
    assert ohem.sampler is not None and not torch.allclose(a, b)
