# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_spml  # noqa: F401
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED

RELATIONS = [
    dict(type='SemanticAnnotation', concentration=6, loss_weight=1.0),
    dict(type='SemanticCooccurrence', concentration=12, loss_weight=0.5),
    dict(type='LowLevelSimilarity', concentration=16, loss_weight=0.1),
    dict(type='FeatureAffinity', concentration=12, loss_weight=0.5),
]


def _loss(**kw):
    init_default_scope('mmseg')
    cfg = dict(
        type='SegSortLoss',
        relations=RELATIONS,
        num_classes=4,
        kmeans_grid=(2, 2),
        kmeans_iters=3,
        memory_size=2,
    )
    cfg.update(kw)
    return MODELS.build(cfg)


def _inputs(n=2, h=8, w=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    emb = F.normalize(torch.randn(n, 5, h, w, generator=g), dim=1)
    labels = torch.full((n, h, w), UNLABELLED)
    labels[:, :2, :] = 1  # scribbles
    labels[:, -2:, :] = 2
    labels[:, :, -1] = IGNORE_INDEX
    tags = torch.tensor([[1.0, 1.0, 1.0, 0.0]] * n)
    sp = (torch.arange(h * w).view(1, h, w) // 16).expand(n, h, w).clone()
    return emb.requires_grad_(), labels, tags, sp


def test_all_relations_finite_with_gradients():
    loss = _loss()
    emb, labels, tags, sp = _inputs()
    losses = loss(emb, labels, tags, sp)
    assert set(losses) == {
        'loss_sem_ann',
        'loss_sem_occ',
        'loss_img_sim',
        'loss_feat_aff',
    }
    total = sum(losses.values())
    assert torch.isfinite(total) and total.item() > 0
    total.backward()
    assert torch.isfinite(emb.grad).all() and emb.grad.abs().sum() > 0
    # Void pixels take part in nothing: no gradient.
    assert (emb.grad[:, :, :, -1] == 0).all()


def test_memory_bank_keeps_last_batches_only_in_training():
    loss = _loss()
    emb, labels, tags, sp = _inputs()
    loss.eval()
    loss(emb, labels, tags, sp)
    assert len(loss.memory.batches) == 0
    loss.train()
    sizes = []
    for seed in range(3):
        loss(*_inputs(seed=seed))
        sizes.append(len(loss.memory.batches))
    assert sizes == [1, 2, 2]
    protos, labs, mem_tags = loss.memory.get(emb, 4)
    assert protos.shape[0] == labs.shape[0] == mem_tags.shape[0] > 0
    assert not protos.requires_grad


@pytest.mark.parametrize(
    'case', ['all_ignore', 'no_labels', 'no_tags', 'one_cluster']
)
def test_degenerate_cases_are_finite(case):
    kw = dict(kmeans_grid=(1, 1)) if case == 'one_cluster' else {}
    loss = _loss(**kw)
    emb, labels, tags, sp = _inputs()
    if case == 'all_ignore':
        labels[:] = IGNORE_INDEX
    elif case == 'no_labels':
        labels[labels < 4] = UNLABELLED
    elif case == 'no_tags':
        tags[:] = 0
    losses = loss(emb, labels, tags, sp)
    total = sum(losses.values())
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(emb.grad).all()
    if case == 'all_ignore':
        assert total.item() == 0.0
    if case == 'no_labels':
        assert losses['loss_sem_ann'].item() == 0.0


def test_configuration_errors():
    with pytest.raises(ValueError, match='at least one relation'):
        _loss(relations=[])
    with pytest.raises(ValueError, match='repeat a loss name'):
        _loss(relations=[RELATIONS[0], RELATIONS[0]])
    with pytest.raises(ValueError, match='SemanticAnnotation: concentration'):
        _loss(relations=[dict(type='SemanticAnnotation', concentration=0)])
