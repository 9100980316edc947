# Copyright (c) mmseg-spml contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg_spml.models.losses import pixel_segment_nll
from mmseg_spml.models.losses.segsort import pixel_segment
from mmseg_spml.models.losses.segsort.pixel_segment import MAX_CONCENTRATION


def naive_nll(
    emb,
    protos,
    own,
    pix_labels,
    proto_labels,
    kappa,
    pix_groups=None,
    proto_groups=None,
):
    """The likelihood of the docstring, one pixel at a time, in float64."""
    losses = []
    for i in range(emb.shape[0]):
        a = torch.exp(kappa * (protos.double() @ emb[i].double()))
        pos, neg = [], []
        for j in range(protos.shape[0]):
            if pix_groups is not None and pix_groups[i] != proto_groups[j]:
                continue
            if pix_labels.dim() == 2:
                related = (pix_labels[i].float() @ proto_labels[j].float()) > 0
            else:
                related = bool(pix_labels[i] == proto_labels[j])
            (pos if related else neg).append(j)
        others = [j for j in pos if j != own[i]]
        if others:
            num = a[others].sum()
        elif own[i] >= 0 and (
            pix_groups is None or pix_groups[i] == proto_groups[own[i]]
        ):
            num = a[own[i]]
        else:
            continue
        losses.append(-torch.log(num / (num + a[neg].sum())))
    if not losses:
        return torch.zeros((), dtype=torch.float64)
    return torch.stack(losses).mean()


def test_hand_computed_single_label():
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    protos = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    labels = torch.tensor([1, 1, 2])
    # Pixel 0: own segment 0 (label 1), other positive 1, negative 2:
    #   -log(e^0 / (e^0 + e^-1)) = log(1 + e^-1).
    # Pixel 1: own segment 2 (label 2), no other positive, so the own
    #   segment is the numerator: -log(e^0 / (e^0 + e^0 + e^1)).
    loss, count = pixel_segment_nll(
        emb, protos, torch.tensor([0, 2]), torch.tensor([1, 2]), labels, 1.0
    )
    expected = (math.log(1 + math.exp(-1)) + math.log(2 + math.e)) / 2
    assert count.item() == 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_hand_computed_multi_hot_and_groups():
    emb = torch.tensor([[1.0, 0.0]])
    protos = torch.tensor([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    tags = torch.tensor([[0, 1, 1]])
    proto_tags = torch.tensor([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    kappa = 2.0
    loss, _ = pixel_segment_nll(
        emb, protos, torch.tensor([-1]), tags, proto_tags, kappa
    )
    num = math.exp(0) + math.exp(kappa)
    assert loss.item() == pytest.approx(
        -math.log(num / (num + math.exp(-kappa))), rel=1e-6
    )
    # With groups, the negative of another group does not count: no
    # negative left, so the loss is 0.
    loss, count = pixel_segment_nll(
        emb,
        protos,
        torch.tensor([-1]),
        tags,
        proto_tags,
        kappa,
        pixel_groups=torch.tensor([0]),
        proto_groups=torch.tensor([0, 0, 1]),
    )
    assert loss.item() == 0.0 and count.item() == 1


@pytest.mark.parametrize('run_rows', [0, 10**9], ids=['runs', 'index'])
@pytest.mark.parametrize(
    'wave_floats', [1, 10**9], ids=['block-by-block', 'one-wave']
)
@pytest.mark.parametrize(
    'multi_hot, groups, memory',
    [
        (False, False, False),
        (True, False, False),
        (False, True, False),
        (True, True, False),
        (False, False, True),
        (True, False, True),
    ],
)
def test_matches_naive_with_gradients_for_any_chunking(
    multi_hot, groups, memory, wave_floats, run_rows, monkeypatch
):
    # Blocks one at a time or all in one wave (see _waves); per-key sums
    # run by run or by key index (see _MIN_RUN_ROWS).
    monkeypatch.setattr(pixel_segment, '_CPU_BLOCK_FLOATS', wave_floats)
    monkeypatch.setattr(pixel_segment, '_MIN_RUN_ROWS', run_rows)
    g = torch.Generator().manual_seed(0)
    emb = F.normalize(torch.randn(37, 8, generator=g), dim=1)
    protos = F.normalize(torch.randn(11, 8, generator=g), dim=1)
    mem = F.normalize(torch.randn(7 if memory else 0, 8, generator=g), dim=1)
    own = torch.randint(-1, 11, (37,), generator=g)
    if multi_hot:
        pix = (torch.rand(37, 4, generator=g) > 0.6).long()
        pro = (torch.rand(11 + len(mem), 4, generator=g) > 0.6).long()
    else:
        pix = torch.randint(0, 3, (37,), generator=g)
        pro = torch.randint(0, 3, (11 + len(mem),), generator=g)
    pg = torch.randint(0, 2, (37,), generator=g) if groups else None
    qg = torch.randint(0, 2, (11,), generator=g) if groups else None
    kappa = 6.0
    ref_e = emb.double().requires_grad_()
    ref_p = protos.double().requires_grad_()
    ref = naive_nll(
        ref_e, torch.cat([ref_p, mem.double()]), own, pix, pro, kappa, pg, qg
    )
    ref.backward()
    extra = dict(memory_protos=mem, memory_labels=pro[11:]) if memory else {}
    for chunk in (5, 1000, 1):
        e = emb.clone().requires_grad_()
        p = protos.clone().requires_grad_()
        loss, _ = pixel_segment_nll(
            e,
            p,
            own,
            pix,
            pro[:11],
            kappa,
            pg,
            qg,
            chunk_size=chunk,
            **extra,
        )
        loss.backward()
        assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
        torch.testing.assert_close(
            e.grad.double(), ref_e.grad, rtol=1e-4, atol=1e-6
        )
        torch.testing.assert_close(
            p.grad.double(), ref_p.grad, rtol=1e-4, atol=1e-6
        )


def test_multi_hot_labels_wider_than_one_packed_word():
    # 70 classes: the keys pack them into two int64 columns; classes
    # shared only beyond the first 62 still make a positive.
    g = torch.Generator().manual_seed(1)
    emb = F.normalize(torch.randn(9, 5, generator=g), dim=1)
    protos = F.normalize(torch.randn(6, 5, generator=g), dim=1)
    own = torch.randint(-1, 6, (9,), generator=g)
    pix = torch.zeros(9, 70, dtype=torch.long)
    pro = torch.zeros(6, 70, dtype=torch.long)
    pix[torch.arange(9), torch.randint(60, 70, (9,), generator=g)] = 1
    pro[torch.arange(6), torch.randint(60, 70, (6,), generator=g)] = 1
    ref = naive_nll(emb, protos, own, pix, pro, 6.0)
    loss, _ = pixel_segment_nll(emb, protos, own, pix, pro, 6.0)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)


def test_memory_is_constant_and_not_grouped():
    emb = F.normalize(torch.randn(6, 4), dim=1)
    protos = F.normalize(torch.randn(3, 4), dim=1)
    mem = F.normalize(torch.randn(5, 4), dim=1).requires_grad_()
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    loss, _ = pixel_segment_nll(
        emb.requires_grad_(),
        protos,
        torch.tensor([0, 1, 2, 0, 1, 2]),
        labels,
        labels[:3],
        8.0,
        memory_protos=mem,
        memory_labels=labels[:5],
    )
    loss.backward()
    assert mem.grad is None and emb.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='cannot be grouped'):
        pixel_segment_nll(
            emb, protos, torch.zeros(6).long(), labels, labels[:3], 8.0,
            pixel_groups=labels, proto_groups=labels[:3],
            memory_protos=mem, memory_labels=labels[:5],
        )  # fmt: skip
    with pytest.raises(ValueError, match='go together'):
        pixel_segment_nll(
            emb, protos, torch.zeros(6).long(), labels, labels[:3], 8.0,
            memory_protos=mem,
        )  # fmt: skip


def test_multi_hot_labels_must_be_binary():
    emb = F.normalize(torch.randn(2, 3), dim=1)
    with pytest.raises(ValueError, match='proto_labels: multi-hot rows'):
        pixel_segment_nll(
            emb, emb, torch.arange(2), torch.ones(2, 2), 2 * torch.ones(2, 2),
            4.0,
        )  # fmt: skip


def test_nothing_contributes_gives_zero_not_nan():
    emb = F.normalize(torch.randn(4, 3), dim=1).requires_grad_()
    protos = F.normalize(torch.randn(2, 3), dim=1).requires_grad_()
    # No own segment and no positive: no pixel has a numerator.
    loss, count = pixel_segment_nll(
        emb,
        protos,
        torch.full((4,), -1),
        torch.zeros(4, dtype=torch.long),
        torch.ones(2, dtype=torch.long),
        12.0,
    )
    loss.backward()
    assert loss.item() == 0.0 and count.item() == 0
    assert torch.isfinite(emb.grad).all() and (emb.grad == 0).all()
    # No prototypes at all.
    loss, count = pixel_segment_nll(
        emb,
        protos[:0],
        torch.full((4,), -1),
        torch.zeros(4, dtype=torch.long),
        torch.zeros(0, dtype=torch.long),
        12.0,
    )
    assert loss.item() == 0.0 and count.item() == 0


def test_largest_concentration_and_half_inputs_stay_finite():
    emb = F.normalize(torch.randn(64, 16), dim=1)
    protos = F.normalize(torch.randn(32, 16), dim=1)
    own = torch.arange(64) % 32
    labels = torch.arange(64) % 3
    proto_labels = torch.arange(32) % 3
    ref, _ = pixel_segment_nll(
        emb, protos, own, labels, proto_labels, MAX_CONCENTRATION
    )
    for dtype in (torch.float16, torch.bfloat16):
        e = emb.to(dtype).requires_grad_()
        loss, _ = pixel_segment_nll(
            e, protos.to(dtype), own, labels, proto_labels, MAX_CONCENTRATION
        )
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(e.grad).all()
        assert loss.item() == pytest.approx(ref.item(), rel=0.05)


def test_concentration_out_of_range_is_an_error():
    emb = F.normalize(torch.randn(4, 3), dim=1)
    with pytest.raises(ValueError, match='concentration must be in'):
        pixel_segment_nll(
            emb,
            emb,
            torch.arange(4),
            torch.zeros(4).long(),
            torch.zeros(4).long(),
            MAX_CONCENTRATION + 1,
        )
