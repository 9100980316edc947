# Copyright (c) mmseg-spml contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg_spml.label_encoding import UNLABELLED
from mmseg_spml.models.losses.segsort import (
    FeatureAffinity,
    LowLevelSimilarity,
    SegmentBatch,
    SemanticAnnotation,
    SemanticCooccurrence,
)


def _unit(*rows):
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=1)


def _batch(**kw):
    p = kw['pix_emb'].shape[0]
    defaults = dict(
        pix_feat=kw['pix_emb'],
        pix_image=torch.zeros(p, dtype=torch.long),
        pix_cluster=torch.zeros(p, dtype=torch.long),
        pix_region=None,
        seg_images=torch.zeros(kw['protos'].shape[0], dtype=torch.long),
        tags=torch.zeros(1, 3),
        mem_protos=torch.zeros(0, kw['protos'].shape[1]),
        mem_labels=torch.zeros(0, dtype=torch.long),
        mem_tags=torch.zeros(0, 3),
        num_classes=3,
    )
    defaults.update(kw)
    return SegmentBatch(**defaults)


def test_semantic_annotation_hand_computed():
    batch = _batch(
        pix_emb=_unit([1, 0], [0, 1], [1, 0]),
        pix_seg=torch.tensor([0, 1, 2]),
        pix_label=torch.tensor([1, 2, UNLABELLED]),
        protos=_unit([1, 0], [0, 1], [-1, 0]),
        seg_labels=torch.tensor([1, 2, UNLABELLED]),
        mem_protos=_unit([0, 1]),
        mem_labels=torch.tensor([1]),
        mem_tags=torch.zeros(1, 3),
    )
    # kappa 1. Pixel 0 (class 1, own s0): other positive m0 (e^0), negative
    # s1 (e^0): log 2. Pixel 1 (class 2, own s1): no other positive, so
    # own e^1 over e^1 + s0 e^0 + m0 e^1. The unlabelled pixel and the
    # unlabelled segment take no part.
    rel = SemanticAnnotation(concentration=1.0, loss_weight=0.5)
    expected = 0.5 * (math.log(2) + math.log(2 + math.exp(-1))) / 2
    assert rel(batch).item() == pytest.approx(expected, rel=1e-6)


def test_semantic_cooccurrence_hand_computed():
    batch = _batch(
        pix_emb=_unit([1, 0], [0, 1]),
        pix_seg=torch.tensor([0, 1]),
        pix_label=torch.tensor([UNLABELLED, UNLABELLED]),
        pix_image=torch.tensor([0, 1]),
        protos=_unit([1, 0], [0, 1], [1, 1]),
        seg_labels=torch.tensor([UNLABELLED, UNLABELLED, UNLABELLED]),
        seg_images=torch.tensor([0, 1, 1]),
        # Both images have background; image 0 has class 1, image 1 has 2.
        tags=torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]),
    )
    k = 2.0
    rel = SemanticCooccurrence(concentration=k, loss_weight=1.0)
    c = math.cos(math.pi / 4)
    # Pixel 0: no other positive -> own s0 e^k; negatives s1 e^0, s2 e^kc.
    l0 = -math.log(math.exp(k) / (math.exp(k) + 1 + math.exp(k * c)))
    # Pixel 1: other positive s2 (same image) e^kc; negative s0 e^0.
    l1 = -math.log(math.exp(k * c) / (math.exp(k * c) + 1))
    assert rel(batch).item() == pytest.approx((l0 + l1) / 2, rel=1e-6)


def test_low_level_similarity_hand_computed():
    emb = _unit([1, 0], [0, 1], [-1, 0], [-1, 0])
    batch = _batch(
        pix_emb=emb,
        pix_feat=emb,
        pix_seg=torch.tensor([0, 1, 2, 2]),
        pix_label=torch.full((4,), UNLABELLED),
        pix_cluster=torch.tensor([0, 1, 1, 1]),
        pix_region=torch.tensor([0, 0, 1, 1]),
        protos=emb[:3],
        seg_labels=torch.full((3,), UNLABELLED),
    )
    # Segments: A = {p0} (region 0), B = {p1} (region 0), C = {p2, p3}.
    # p0: positive B (e^0), negative C (e^-k); p1: positive A (e^0),
    # negative C (e^0); p2, p3: no other positive, own C (e^k), negatives
    # A (e^-k) and B (e^0).
    k = 1.0
    l0 = math.log(1 + math.exp(-k))
    l1 = math.log(2)
    l2 = -math.log(math.exp(k) / (math.exp(k) + math.exp(-k) + 1))
    rel = LowLevelSimilarity(concentration=k, loss_weight=1.0)
    assert rel(batch).item() == pytest.approx((l0 + l1 + 2 * l2) / 4, rel=1e-6)
    with pytest.raises(ValueError, match='needs superpixels'):
        rel(
            _batch(
                pix_emb=emb,
                pix_seg=torch.zeros(4, dtype=torch.long),
                pix_label=torch.zeros(4, dtype=torch.long),
                protos=emb[:1],
                seg_labels=torch.zeros(1, dtype=torch.long),
            )
        )


def test_feature_affinity_label_sets():
    protos = _unit([1, 0], [0.99, 0.1], [0, 1], [1, 0])
    batch = _batch(
        pix_emb=protos,
        pix_seg=torch.arange(4),
        pix_label=torch.tensor([1, UNLABELLED, UNLABELLED, 2]),
        protos=protos,
        seg_labels=torch.tensor([1, UNLABELLED, UNLABELLED, 2]),
        seg_images=torch.tensor([0, 0, 0, 1]),
    )
    rel = FeatureAffinity(concentration=1.0, threshold=0.95)
    sets = rel.segment_label_sets(batch)
    # s1 is close to s0 (same image) and borrows class 1; s2 is far from
    # every labelled segment of its image: related to all classes. s3 is
    # close to s0 too, but of another image, and keeps its own class.
    assert sets.tolist() == [[0, 1, 0], [0, 1, 0], [1, 1, 1], [0, 0, 1]]
    assert torch.isfinite(rel(batch))


@pytest.mark.parametrize(
    'rel', [SemanticAnnotation(), SemanticCooccurrence(), FeatureAffinity()]
)
def test_empty_batch_is_zero(rel):
    emb = torch.zeros(0, 2, requires_grad=True)
    batch = _batch(
        pix_emb=emb,
        pix_seg=torch.zeros(0, dtype=torch.long),
        pix_label=torch.zeros(0, dtype=torch.long),
        protos=torch.zeros(0, 2),
        seg_labels=torch.zeros(0, dtype=torch.long),
    )
    loss = rel(batch)
    assert loss.item() == 0.0
