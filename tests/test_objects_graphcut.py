"""core.objects.graphcut: the cut decides only within its box (the labels stand outside), a large
undecided area is cut on a coarser grid without losing the sure labels, and the box around what a
cut may change."""

from __future__ import annotations

import cv2
import numpy as np

from core.objects import graphcut
from core.objects.graphcut import graph_cut, grown, seed_labels, undecided_bounds

H, W = 120, 160


def _two_tones(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(image (H, W, 3) uint8: a red rectangle on blue with noise, truth (H, W) bool)."""
    truth = np.zeros((H, W), bool)
    truth[30:90, 40:120] = True
    image = np.where(truth[..., None], [200, 40, 30], [30, 60, 190]).astype(np.float32)
    image += np.random.default_rng(seed).normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), truth


def _loose_labels(truth: np.ndarray) -> np.ndarray:
    """A prior that is wrong by a wide band all round the object, the object's centre sure."""
    prior = np.where(cv2.dilate(truth.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0, 0.6, 0.3)
    sure = np.zeros_like(truth)
    sure[55:65, 75:85] = True
    return seed_labels(prior.astype(np.float32), sure_object=sure)


def test_the_cut_decides_within_its_box_and_the_labels_stand_outside():
    image, truth = _two_tones()
    labels = _loose_labels(truth)
    whole = graph_cut(image, labels)
    assert (whole == truth).mean() > 0.99
    inside = graph_cut(image, labels, within=(0, 0, 100, H))
    assert (inside[:, :100] == truth[:, :100]).mean() > 0.99
    standing = (labels[:, 100:] == cv2.GC_FGD) | (labels[:, 100:] == cv2.GC_PR_FGD)
    assert np.array_equal(inside[:, 100:], standing), "outside its box the cut changes nothing"


def test_a_large_undecided_area_is_cut_on_a_coarser_grid_keeping_the_sure_labels(monkeypatch):
    image, truth = _two_tones(seed=1)
    labels = _loose_labels(truth)
    labels[10:14, 10:14] = cv2.GC_FGD  # a sure object pixel the colours disagree with
    fine = graph_cut(image, labels)
    monkeypatch.setattr(graphcut, "UNDECIDED_MAX", 5_000)  # the whole image is undecided: a 2x coarser grid
    coarse = graph_cut(image, labels)
    assert (coarse == truth)[20:100, 30:130].mean() > 0.97 and (coarse != fine).mean() < 0.03
    assert coarse[10:14, 10:14].all() and fine[10:14, 10:14].all(), "sure labels stand at the full grid"


def test_the_cut_leaves_the_callers_labels_as_they_were():
    """GrabCut writes its answer into the labels it is given: a cut over the whole grid once wrote it
    into the caller's, so a second cut from the same labels started from the first one's answer."""
    image, truth = _two_tones()
    labels = _loose_labels(truth)
    before = labels.copy()
    for within in (None, (0, 0, 100, H)):
        graph_cut(image, labels, within=within)
        assert np.array_equal(labels, before)


def test_the_box_around_what_a_cut_may_change():
    labels = np.full((H, W), cv2.GC_BGD, np.uint8)
    assert undecided_bounds(labels, 0.25) == (0, 0, 0, 0)
    labels[40:60, 50:90] = cv2.GC_PR_FGD
    assert undecided_bounds(labels, 0.25) == (34, 24, 106, 76)  # 16 px at least (25 % of 40 is 10)
    assert grown((0, 0, 100, 100), 0.5, (H, W)) == (0, 0, 150, H)  # inside the image


def test_the_same_labels_give_the_same_cut():
    """GrabCut's colour models start from k-means on the thread's random state: seeded per cut, every
    call agrees (unseeded, five calls on this noise disagreed)."""
    image = (np.random.default_rng(0).normal(0, 40, (160, 240, 3)) + 128).clip(0, 255).astype(np.uint8)
    prior = np.zeros((160, 240), np.float32)
    prior[40:120, 60:180] = 0.6
    labels = seed_labels(prior)
    cuts = [graph_cut(image, labels) for _ in range(5)]
    assert all(np.array_equal(cut, cuts[0]) for cut in cuts)
