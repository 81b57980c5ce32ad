"""The model's matte as the solver's guide, and the unknown region grown where strands can be."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.alpha.info_flow import estimate_alpha_info_flow
from core.errors import ParameterError
from core.sample import furry_subject
from core.subject.options import MatteOptions
from core.subject import colours, refine, trimap
from core.subject.colours import colour_overlap, colours_overlap
from core.subject.refine import guide_weight, model_guide
from core.subject.select import select_subject
from core.subject.trimap import fit_unknown_budget, matting_trimap, photo_trimap, subject_trimap, sure_foreground
from core.trimap.auto import auto_trimap
from core.trimap.strands import strand_region


def _strands_scene(h: int = 200, w: int = 240) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A brown disc with thin strands to the right, over a smooth gradient, and a textured
    patch far away in the left corner.

    Returns (image (h, w, 3) float32 RGB, body alpha (h, w) float32: what a model sees,
    strands (h, w) bool: the strands' pixels)."""
    body = np.zeros((h, w), np.uint8)
    cv2.circle(body, (w // 2, h // 2), 45, 255, -1)
    strands = np.zeros((h, w), np.uint8)
    for k in range(9):
        angle = -0.8 + 0.2 * k
        end = (int(w // 2 + 80 * np.cos(angle)), int(h // 2 + 80 * np.sin(angle)))
        cv2.line(strands, (w // 2, h // 2), end, 255, 1)
    strands[body > 0] = 0
    alpha = np.maximum(body, strands).astype(np.float32) / 255.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = np.stack([0.3 + 0.3 * xx / w, 0.6 + 0.1 * yy / h, 0.8 - 0.2 * xx / w], axis=2)
    patch = np.random.default_rng(3).random((30, 30)).astype(np.float32)
    bg[5:35, 5:35] *= (0.6 + 0.4 * patch)[..., None]  # texture far from the subject
    fg = np.array([0.55, 0.35, 0.2], np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return image.astype(np.float32), body.astype(np.float32) / 255.0, strands > 0


def _faint(body: np.ndarray, strands: np.ndarray, level: float = 0.03) -> np.ndarray:
    """A model's matte: sure of the body, a faint, blurred response around the strands it
    missed (as IS-Net's on the sample)."""
    near = np.clip(cv2.GaussianBlur(strands.astype(np.float32), (0, 0), 4.0) * 10.0, 0.0, 1.0)
    return np.maximum(body, level * near)


def test_strand_region_follows_strands_the_model_missed_and_nothing_far_away():
    image, body, strands = _strands_scene()
    trimap = auto_trimap(body, band=0.015)
    region = strand_region(image, _faint(body, strands), trimap)
    missed = strands & (trimap == 0)
    assert missed.sum() > 100
    assert region[missed].mean() > 0.8  # the strands beyond the band are found
    assert not region[5:35, 5:35].any()  # the textured patch is far and not connected
    assert not region[trimap == 255].any()
    # The smooth gradient away from the strands stays known background.
    assert region[:, :40].sum() == 0
    # Nothing to grow from: no subject.
    assert not strand_region(image, np.zeros_like(body), auto_trimap(np.zeros_like(body))).any()


def test_texture_the_model_gives_nothing_is_not_grown():
    """Grass or a railing beside the subject: textured, connected to the band, but the model's
    matte is exactly 0 there, so it is background (ECSSD: 0250, 0738, 0810, 0002)."""
    image, body, strands = _strands_scene()
    trimap = auto_trimap(body, band=0.015)
    assert not strand_region(image, body, trimap).any()
    assert strand_region(image, _faint(body, strands), trimap).any()


@pytest.mark.parametrize("share, grows", [(0.06, False), (0.11, True)])
def test_strands_need_the_models_response_on_enough_of_them(share, grows):
    """A response on 6 % of the grown pixels (a floor under a car, ECSSD 0622) is not strands;
    on 11 % (the README's sample) it is."""
    image, body, strands = _strands_scene()
    trimap = auto_trimap(body, band=0.015)
    grown = strand_region(image, _faint(body, strands), trimap) & (trimap == 0)
    model = body.copy()
    ys, xs = np.nonzero(grown)
    keep = np.random.default_rng(5).permutation(len(ys))[: int(round(share * len(ys)))]
    model[ys[keep], xs[keep]] = 0.03
    assert strand_region(image, model, trimap).any() == grows


def test_matting_trimap_grows_the_unknown_region_only_with_strands_on():
    image, body, strands = _strands_scene()
    model = _faint(body, strands)
    plain, none_grown = matting_trimap(image, model, strands=False)
    grown, where = matting_trimap(image, model, strands=True)
    assert not none_grown.any()
    assert (grown == 128).sum() > (plain == 128).sum() + 100
    assert (grown[where] == 128).all()
    np.testing.assert_array_equal(plain, auto_trimap(model))


def test_guide_decides_where_colour_cannot():
    # One colour everywhere: colour flows carry no evidence; the guide must win.
    image = np.full((40, 60, 3), 0.5, np.float32)
    trimap = np.full((40, 60), 128, np.uint8)
    trimap[:, :5] = 255
    trimap[:, -5:] = 0
    target = np.zeros((40, 60), np.float32)
    target[:, :20] = 1.0  # the model says: the subject ends at column 20, not midway
    guided = estimate_alpha_info_flow(image, trimap, guide=(target, np.ones_like(target)))
    unguided = estimate_alpha_info_flow(image, trimap)
    inner = trimap == 128
    assert np.abs(guided - target)[inner].mean() < 0.1
    assert np.abs(unguided - target)[inner].mean() > 0.2
    with pytest.raises(ParameterError):
        estimate_alpha_info_flow(image, trimap, guide=(target[:10], target[:10]))


def test_colour_overlap_says_how_far_subject_and_background_share_colours():
    image = np.zeros((40, 40, 3), np.float32)
    image[:, :20] = (0.9, 0.1, 0.1)  # red left half
    image[:, 20:] = (0.1, 0.1, 0.9)  # blue right half
    left = np.zeros((40, 40), bool)
    left[:, :20] = True
    assert colour_overlap(image, left) == 0.0  # red subject on blue: nothing shared
    middle = np.zeros((40, 40), bool)
    middle[:, 10:30] = True  # half red, half blue; so is the background
    assert colour_overlap(image, middle) == pytest.approx(1.0)
    assert colour_overlap(image, np.zeros((40, 40), bool)) == 1.0  # no subject: nothing to tell apart
    assert colour_overlap(image, np.ones((40, 40), bool)) == 1.0


def test_the_model_is_trusted_more_where_colours_cannot_tell_subject_from_background(monkeypatch):
    image = np.zeros((40, 40, 3), np.float32)
    image[:, :20], image[:, 20:] = (0.9, 0.1, 0.1), (0.1, 0.1, 0.9)
    coarse = np.zeros((40, 40), np.float32)
    coarse[:, :20] = 1.0
    assert not colours_overlap(image, coarse)
    stone = np.full((40, 40, 3), 0.5, np.float32)  # a stone statue before a stone wall
    assert colours_overlap(stone, coarse)
    assert guide_weight(True) == refine.GUIDE_WEIGHT_OVERLAP > guide_weight(False) == refine.GUIDE_WEIGHT
    assert sure_foreground(True) == trimap.SURE_OVERLAP < sure_foreground(False) == trimap.SURE_FOREGROUND
    monkeypatch.setattr(colours, "COLOUR_OVERLAP", 1.0)  # the rule reads its threshold when it runs
    assert not colours_overlap(stone, coarse)


def test_best_trusts_the_model_more_where_the_photos_colours_overlap(monkeypatch):
    """The guide's weight and the model's values taken as known foreground both follow the colours."""
    weights, sures = [], []

    def recorded(coarse, weight=None, power=None):
        weights.append(weight)
        return model_guide(coarse, weight, power)

    def recorded_trimap(image, coarse, **kwargs):
        sures.append(kwargs["sure"])
        return matting_trimap(image, coarse, **kwargs)

    def recorded_budget(*args, **kwargs):
        sures.append(("budget", kwargs["sure"]))
        return fit_unknown_budget(*args, **kwargs)

    monkeypatch.setattr(refine, "model_guide", recorded)
    monkeypatch.setattr(refine, "matting_trimap", recorded_trimap)
    monkeypatch.setattr(refine, "fit_unknown_budget", recorded_budget)
    square = np.zeros((60, 80), np.float32)
    square[15:45, 20:60] = 1.0

    def model(rgb: np.ndarray) -> np.ndarray:  # sure of the square, whatever the colours
        return cv2.resize(square, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_NEAREST)

    apart = np.where(square[..., None] > 0, (0.9, 0.2, 0.1), (0.1, 0.3, 0.8)).astype(np.float32)
    stone = np.full((60, 80, 3), 0.5, np.float32)
    for image in (apart, stone):
        select_subject(image, model, MatteOptions(refine="best", decontaminate=0.0))
    assert weights == [refine.GUIDE_WEIGHT, refine.GUIDE_WEIGHT_OVERLAP]
    assert sures == [trimap.SURE_FOREGROUND, ("budget", trimap.SURE_FOREGROUND),
                     trimap.SURE_OVERLAP, ("budget", trimap.SURE_OVERLAP)]
    assert trimap.SURE_OVERLAP < trimap.SURE_FOREGROUND
    sures.clear()
    select_subject(stone, model, MatteOptions(refine="fast", decontaminate=0.0))  # fast keeps its trimap
    assert sures == [trimap.SURE_FOREGROUND]


def test_the_photos_trimap_follows_its_colours(monkeypatch):
    """Select Subject's trimap as the engine's trimap operation and subject_trimap give it: a body the
    model gives 0.85 is known foreground where the colours overlap, unknown where they are told apart."""
    image, body, _ = _strands_scene()

    def model(rgb: np.ndarray) -> np.ndarray:
        return cv2.resize(body * 0.85, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_NEAREST)

    monkeypatch.setattr(colours, "COLOUR_OVERLAP", -1.0)  # every photo's colours overlap
    overlapping, coarse = subject_trimap(image, model)
    np.testing.assert_array_equal(photo_trimap(image, coarse.alpha), overlapping)
    monkeypatch.setattr(colours, "COLOUR_OVERLAP", 1.0)  # no photo's do
    apart, _ = subject_trimap(image, model)
    assert (overlapping == 255).sum() > 1000 and not (apart == 255).any()


def test_the_trimap_takes_the_models_values_from_sure_as_known_foreground():
    """A subject the model gives 0.85 inside (a grey body: planks on a cart, ECSSD 0702) is known foreground
    when the model is trusted to 0.8, and unknown to the solver at 0.95."""
    image, body, strands = _strands_scene()
    model = body * 0.85
    trusted, _ = matting_trimap(image, model, strands=False, sure=0.8)
    strict, _ = matting_trimap(image, model, strands=False, sure=0.95)
    assert (trusted == 255).sum() > 1000
    assert not (strict == 255).any()
    assert (strict[trusted == 255] == 128).all()


def test_model_guide_weights_sure_values_and_ignores_hesitation():
    coarse = np.array([[0.0, 0.5, 1.0, 0.75]], np.float32)
    alpha, weight = model_guide(coarse, weight=0.2, power=2.0)
    np.testing.assert_array_equal(alpha, coarse)
    np.testing.assert_allclose(weight, [[0.2, 0.0, 0.2, 0.05]], atol=1e-6)


def test_best_keeps_strands_a_body_only_model_misses():
    image, truth = furry_subject(width=400, height=300)  # the whole image at the working size
    fg = np.array([0.65, 0.46, 0.25], np.float32)

    def body_only(rgb: np.ndarray) -> np.ndarray:
        # Sure of the body; sees the strands on its left, only faintly those on its right, as
        # IS-Net is on the sample.
        near = (np.abs(rgb - fg).max(axis=2) < 0.15).astype(np.uint8)
        body = cv2.morphologyEx(near, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15)))
        left = slice(0, rgb.shape[1] * 2 // 5)
        body[:, left] = np.maximum(body[:, left], near[:, left])
        return _faint(body.astype(np.float32), near)

    matte = select_subject(image, body_only, MatteOptions(refine="best", decontaminate=0.0))
    model_sad = np.abs(matte.coarse.alpha - truth).sum() / 1000
    best_sad = np.abs(matte.alpha - truth).sum() / 1000
    assert best_sad < 0.6 * model_sad
