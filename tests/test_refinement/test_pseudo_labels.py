# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch

from mmseg_spml.refinement.pseudo_labels import refine_pseudo_label


def _two_regions():
    """A 2x4 image: left half embedding e0, right half e1 (orthogonal)."""
    emb = torch.zeros(2, 2, 4)
    emb[0, :, :2] = 1
    emb[1, :, 2:] = 1
    image = torch.zeros(3, 2, 4)
    image[:, :, 2:] = 255
    return emb, image


def test_restriction_and_weak_labels_without_refinement():
    emb, image = _two_regions()
    scores = torch.zeros(3, 2, 4)
    scores[2] = 0.9  # class 2 wins everywhere ...
    scores[1, :, 2:] = 0.5
    present = torch.tensor([True, True, False])  # ... but is not present
    weak = torch.full((2, 4), 254)
    weak[0, 0] = 2  # an annotation always wins
    label = refine_pseudo_label(scores, emb, present, image, weak_label=weak)
    # Normalised by class maxima: class 1 is 1 on the right, 0 on the left
    # where class 0 (all zeros) wins the tie by index.
    assert label.tolist() == [[2, 0, 1, 1], [0, 0, 1, 1]]


def test_random_walk_spreads_scores_within_an_embedding_region():
    emb, image = _two_regions()
    scores = torch.zeros(2, 2, 4)
    scores[0, :, :2] = 0.2  # background weakly on the left
    scores[1, 0, 0] = 1.0  # one confident pixel of class 1 on the left
    scores[0, :, 2:] = 1.0  # background on the right
    present = torch.tensor([True, True])
    plain = refine_pseudo_label(scores, emb, present, image)
    assert plain.tolist() == [[1, 0, 0, 0], [0, 0, 0, 0]]
    walked = refine_pseudo_label(
        scores,
        emb,
        present,
        image,
        random_walk_cfg=dict(beta=100.0, num_squarings=2),
    )
    # The walk averages within the left region (class 1: 0.25 > 0.2) and
    # leaks nothing across the orthogonal embeddings.
    assert walked.tolist() == [[1, 1, 0, 0], [1, 1, 0, 0]]


def test_crf_and_upsampling_give_the_image_size():
    emb, _ = _two_regions()
    image = torch.zeros(3, 6, 12)
    image[:, :, 6:] = 255
    scores = torch.zeros(2, 2, 4)
    scores[0, :, :2] = 1.0
    scores[1, :, 2:] = 1.0
    label = refine_pseudo_label(
        scores,
        emb,
        torch.tensor([True, True]),
        image,
        crf_cfg=dict(num_iters=3, max_pixels=36),
    )
    assert label.shape == (6, 12)
    assert (label[:, :5] == 0).all() and (label[:, 7:] == 1).all()


def test_bad_shapes_are_errors():
    emb, image = _two_regions()
    scores = torch.zeros(2, 2, 4)
    with pytest.raises(ValueError, match='present must have shape'):
        refine_pseudo_label(scores, emb, torch.tensor([True]), image)
    with pytest.raises(ValueError, match='share their spatial size'):
        refine_pseudo_label(
            scores, emb[:, :1], torch.tensor([True, True]), image
        )
    with pytest.raises(ValueError, match='weak_label has shape'):
        refine_pseudo_label(
            scores,
            emb,
            torch.tensor([True, True]),
            image,
            weak_label=torch.zeros(3, 3),
        )


def test_box_constraint_keeps_classes_in_their_boxes():
    emb, image = _two_regions()
    scores = torch.zeros(3, 2, 4)
    scores[0], scores[0, 1, 0] = 0.3, 1.0  # after normalisation by maxima
    scores[1], scores[1, 0, 0] = 0.8, 1.0  # class 1 beats background ...
    scores[2, :, 3] = 1.0  # ... and class 2 beats both in column 3
    present = torch.ones(3, dtype=torch.bool)
    allowed = torch.zeros(3, 2, 4, dtype=torch.bool)
    allowed[0] = True  # background anywhere
    allowed[1, :, 1:3] = True  # class 1's box: columns 1-2
    allowed[2, 0, 2:] = True  # class 2's box: row 0, columns 2-3
    free = refine_pseudo_label(scores, emb, present, image)
    assert free.tolist() == [[1, 1, 1, 2], [0, 1, 1, 2]]
    label = refine_pseudo_label(scores, emb, present, image, allowed=allowed)
    assert label.tolist() == [[0, 1, 1, 2], [0, 1, 1, 0]]
    # With the CRF too, no class leaves its boxes.
    crf = refine_pseudo_label(
        scores, emb, present, image, allowed=allowed, crf_cfg=dict()
    )
    assert allowed.gather(0, crf[None]).all()
    with pytest.raises(ValueError, match=r'allowed must have shape'):
        refine_pseudo_label(scores, emb, present, image, allowed=allowed[:2])
