# Copyright (c) mmseg-spml contributors. All rights reserved.
import os

import pytest
import torch
import torch.nn.functional as F

from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.refinement.knn import (
    cluster_prototypes,
    image_prototypes,
    knn_search,
    knn_segment_scores,
    knn_vote,
    load_memory,
    save_memory,
)

E0 = torch.tensor([1.0, 0.0, 0.0])
E1 = torch.tensor([0.0, 1.0, 0.0])


def two_images():
    """Image 0: columns 0-1 are E0, 2-3 are E1. Image 1: column 0 is E0,
    columns 1-3 are E1, so k-means on a (1, 2) grid moves column 1 from
    the left initial cluster to the right one."""
    emb = torch.zeros(2, 3, 2, 4)
    emb[0, :, :, :2] = E0[:, None, None]
    emb[0, :, :, 2:] = E1[:, None, None]
    emb[1, :, :, :1] = E0[:, None, None]
    emb[1, :, :, 1:] = E1[:, None, None]
    return emb


def naive_vote(queries, memory, labels, num_classes, k, soft, temperature):
    """Full Q x M similarities; ties go to the lowest memory row."""
    q = F.normalize(queries.float(), dim=1)
    m = F.normalize(memory.float(), dim=1)
    scores = torch.zeros(q.shape[0], num_classes)
    for i in range(q.shape[0]):
        sims = m @ q[i]
        ok = (labels >= 0) & (labels < num_classes)
        sims = sims.masked_fill(~ok, float('-inf'))
        vals, order = torch.sort(sims, descending=True, stable=True)
        n = min(k, int(ok.sum()))
        vals, order = vals[:n], order[:n]
        if soft:
            weights = torch.softmax(vals / temperature, dim=0)
        else:
            weights = torch.ones(n)
        for w, j in zip(weights, order):
            scores[i, labels[j]] += w
    return scores


def test_image_prototypes_majority_labels():
    emb = two_images()
    labels = torch.tensor(
        [
            [
                [1, 1, UNLABELLED, UNLABELLED],
                [UNLABELLED, 0] + [UNLABELLED] * 2,
            ],
            [[3, 2, 4, 4], [UNLABELLED, 2, IGNORE_INDEX, UNLABELLED]],
        ]
    )
    protos, proto_labels, images = image_prototypes(
        emb, labels, num_classes=5, grid=(1, 2), num_iters=5
    )
    # Image 0: left {1, 1, 254, 0} -> 1, right all unlabelled -> 254.
    # Image 1: left is column 0 only, {3, 254} -> 3; right {2, 4, 4, 2,
    # void, 254}: a 2-2 tie -> the lowest class, 2. (Had column 1 stayed
    # left: {3, 254, 2, 2} -> 2 and {4, 4, void, 254} -> 4.)
    assert proto_labels.tolist() == [1, UNLABELLED, 3, 2]
    assert images.tolist() == [0, 0, 1, 1]
    torch.testing.assert_close(protos, torch.stack([E0, E1, E0, E1]))


def test_cluster_prototypes_pixel_index_and_valid():
    emb = two_images()
    valid = torch.ones(2, 2, 4, dtype=torch.bool)
    valid[0, :, 2:] = False  # image 0 keeps its E0 half only
    protos, images, pixel_proto = cluster_prototypes(
        emb, valid, grid=(1, 2), num_iters=5
    )
    assert images.tolist() == [0, 1, 1]
    torch.testing.assert_close(protos, torch.stack([E0, E0, E1]))
    expected = torch.tensor([[[0, 0, -1, -1]] * 2, [[1, 2, 2, 2]] * 2])
    assert torch.equal(pixel_proto, expected)


@pytest.mark.parametrize('soft', [False, True])
def test_knn_vote_matches_naive(soft):
    g = torch.Generator().manual_seed(0)
    queries = torch.randn(7, 6, generator=g)
    memory = F.normalize(torch.randn(40, 6, generator=g), dim=1)
    labels = torch.randint(0, 4, (40,), generator=g)
    labels[::5] = UNLABELLED
    labels[3] = IGNORE_INDEX
    expected = naive_vote(queries, memory, labels, 4, 6, soft, 0.2)
    for chunk in [1, 3, 16, 40, 100]:
        for query_chunk in [2, 4096]:
            got = knn_vote(
                queries,
                memory,
                labels,
                4,
                k=6,
                chunk_size=chunk,
                query_chunk=query_chunk,
                soft=soft,
                temperature=0.2,
            )
            torch.testing.assert_close(got, expected)


def test_knn_ties_go_to_the_lowest_row_for_every_chunking():
    # One-hot memory rows and queries: similarities are exactly 0 or 1,
    # so many rows tie at the k-th place.
    g = torch.Generator().manual_seed(1)
    basis = torch.randint(0, 3, (30,), generator=g)
    memory = F.one_hot(basis, 3).float()
    labels = torch.randint(0, 5, (30,), generator=g)
    labels[torch.randperm(30, generator=g)[:6]] = UNLABELLED
    queries = torch.eye(3)
    for k in [1, 4, 7]:
        expected = naive_vote(queries, memory, labels, 5, k, False, 1.0)
        for chunk in [1, 2, 3, 7, 30, 64]:
            got = knn_vote(queries, memory, labels, 5, k=k, chunk_size=chunk)
            torch.testing.assert_close(got, expected)
            _, idx = knn_search(
                queries, memory, labels >= 5, k=k, chunk_size=chunk
            )
            for q in range(3):
                rows = ((basis == q) & (labels < 5)).nonzero().squeeze(1)
                assert sorted(idx[q].tolist()) == rows[:k].tolist()


def test_unlabelled_memory_never_votes():
    memory = torch.stack(
        [E0, E0, E0, 0.8 * E0 + 0.6 * E1, E1, -E0]
    )  # the three exact matches carry no class
    labels = torch.tensor([UNLABELLED, IGNORE_INDEX, -1, 1, 2, 0])
    scores = knn_vote(E0[None], memory, labels, 3, k=2, chunk_size=2)
    assert scores.tolist() == [[0.0, 1.0, 1.0]]


def test_k_larger_than_labelled_memory_uses_all():
    memory = torch.stack([E0, E1, E0 + E1, E0, E1])
    labels = torch.tensor([0, 1, 1, UNLABELLED, UNLABELLED])
    hard = knn_vote(E0[None], memory, labels, 2, k=10)
    assert hard.tolist() == [[1.0, 2.0]]
    soft = knn_vote(E0[None], memory, labels, 2, k=10, soft=True)
    w = torch.tensor([1.0, 0.0, 0.5**0.5]).div(0.1).exp()
    w = w / w.sum()
    torch.testing.assert_close(soft, torch.stack([w[0], w[1] + w[2]])[None])
    vals, idx = knn_search(E0[None], memory, labels >= 2, k=10, chunk_size=2)
    assert vals.shape == (1, 5)
    assert sorted(idx[0, :3].tolist()) == [0, 1, 2]
    assert torch.isinf(vals[0, 3:]).all()
    # No labelled row at all: zero scores.
    none = knn_vote(E0[None], memory, torch.full((5,), UNLABELLED), 2)
    assert none.tolist() == [[0.0, 0.0]]


def test_soft_vote_weights():
    memory = torch.stack([E0, E1])
    scores = knn_vote(
        E0[None],
        memory,
        torch.tensor([0, 1]),
        2,
        k=2,
        soft=True,
        temperature=0.5,
    )
    e2 = torch.tensor(2.0).exp()
    expected = torch.stack([e2 / (e2 + 1), 1 / (e2 + 1)])[None]
    torch.testing.assert_close(scores, expected)


def test_knn_segment_scores_broadcasts_cluster_votes():
    emb = two_images()[:1]
    valid = torch.ones(1, 2, 4, dtype=torch.bool)
    valid[0, 1, 3] = False
    memory = torch.stack([E0, E1, E0])
    labels = torch.tensor([3, 1, UNLABELLED])
    scores = knn_segment_scores(
        emb, memory, labels, 4, valid=valid, grid=(1, 2), num_iters=5, k=1
    )
    assert scores.shape == (1, 4, 2, 4)
    expected = torch.zeros(1, 4, 2, 4)
    expected[0, 3, :, :2] = 1
    expected[0, 1, :, 2:] = 1
    expected[0, :, 1, 3] = 0
    assert torch.equal(scores, expected)


def test_save_load_round_trip(tmp_path):
    path = str(tmp_path / 'mem.pth')
    protos = F.normalize(torch.randn(5, 4), dim=1)
    labels = torch.tensor([0, 1, UNLABELLED, 2, 0], dtype=torch.int32)
    meta = dict(grid=[12, 12], classes=('a', 'b', 'c'), scale=0.5, n=3)
    save_memory(path, protos, labels, meta)
    assert os.listdir(tmp_path) == ['mem.pth']  # no temporary file left
    got_protos, got_labels, got_meta = load_memory(path)
    assert torch.equal(got_protos, protos)
    assert got_labels.dtype == torch.long
    assert got_labels.tolist() == labels.tolist()
    assert got_meta == meta
    # Overwriting replaces the file.
    save_memory(path, protos[:2], labels[:2])
    assert load_memory(path)[0].shape == (2, 4)


class NotPlain:
    pass


def test_load_memory_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_memory(str(tmp_path / 'missing.pth'))
    bad = tmp_path / 'corrupt.pth'
    bad.write_bytes(b'not a torch file')
    with pytest.raises(ValueError, match='corrupt.pth.*cannot be loaded'):
        load_memory(str(bad))
    nokey = tmp_path / 'nokey.pth'
    torch.save(
        dict(prototypes=torch.zeros(2, 3), labels=torch.zeros(2)), nokey
    )
    with pytest.raises(ValueError, match=r"nokey.pth lacks.*\['meta'\]"):
        load_memory(str(nokey))
    shape = tmp_path / 'shape.pth'
    torch.save(
        dict(
            prototypes=torch.zeros(2, 3),
            labels=torch.zeros(3, dtype=torch.long),
            meta={},
        ),
        shape,
    )
    with pytest.raises(ValueError, match='shape.pth is invalid: 3 labels'):
        load_memory(str(shape))
    unsafe = tmp_path / 'unsafe.pth'
    torch.save(
        dict(
            prototypes=torch.zeros(2, 3),
            labels=torch.zeros(2, dtype=torch.long),
            meta={'x': NotPlain()},
        ),
        unsafe,
    )
    with pytest.raises(ValueError, match='unsafe.pth cannot be loaded'):
        load_memory(str(unsafe))


def test_save_memory_rejects_bad_input(tmp_path):
    path = str(tmp_path / 'mem.pth')
    with pytest.raises(ValueError, match='2 labels for 3 prototypes'):
        save_memory(path, torch.zeros(3, 4), torch.zeros(2))
    with pytest.raises(TypeError, match=r"meta\['x'\] is a NotPlain"):
        save_memory(path, torch.zeros(3, 4), torch.zeros(3), {'x': NotPlain()})
    assert os.listdir(tmp_path) == []


def test_knn_vote_rejects_bad_arguments():
    memory, labels = torch.stack([E0, E1]), torch.tensor([0, 1])
    with pytest.raises(ValueError, match='k and chunk_size'):
        knn_vote(E0[None], memory, labels, 2, k=0)
    with pytest.raises(ValueError, match='k and chunk_size'):
        knn_vote(E0[None], memory, labels, 2, chunk_size=0)
    with pytest.raises(ValueError, match='does not match'):
        knn_vote(E0[None], memory, labels[:1], 2)
