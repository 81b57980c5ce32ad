"""Clean-plate matting in the core: alignment, the known-background prior and solver,
foreground colours with the plate, the pipeline; real photos from ../shared/data/alphamatting."""

from __future__ import annotations

import numpy as np
import pytest

from sample_images import SHARED_DATA, plate_scene, textured
from core.alpha.info_flow import estimate_alpha_info_flow
from core.errors import AlignmentError, ParameterError
from core.eval.metrics import sad
from core.foreground.blur_fusion import estimate_foreground_blur_fusion
from core.imageio import load_grey, load_image, uint8_to_float
from core.phone.homography import map_points, scale_matrix
from core.plate.align import align_plate
from core.plate.matte import plate_prior, plate_trimap
from core.plate.pipeline import plate_matte
from core.subject.options import MatteOptions
from core.subject.select import select_subject
from testing.plate_synthetic import estimate_foreground, plate_case
from core.srgb import to_linear, to_srgb

needs_data = pytest.mark.skipif(not (SHARED_DATA / "gt").is_dir(), reason="../shared/data/alphamatting is absent")


def reddish(image: np.ndarray) -> np.ndarray:
    """A stand-in model: reddish pixels are the subject (as the tests' tiny ONNX model)."""
    return (1.0 / (1.0 + np.exp(-8.0 * (image[:, :, 0] - image[:, :, 2])))).astype(np.float32)


@pytest.fixture(scope="module")
def photo_case():
    """GT05's subject over GT12's scene, and a handheld retake of that scene."""
    gt = load_grey(SHARED_DATA / "gt" / "GT05.png").astype(np.float32) / 255.0
    foreground = estimate_foreground(load_image(SHARED_DATA / "input" / "GT05.png"), gt)
    return plate_case(foreground, gt, load_image(SHARED_DATA / "input" / "GT12.png"), np.random.default_rng(3))


def largest_shift(found: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    """Largest distance between where two plate → image homographies send the ``where`` pixels back."""
    ys, xs = np.nonzero(where)
    points = np.column_stack([xs, ys]).astype(np.float64)
    moved = map_points(np.linalg.inv(found), points) - map_points(np.linalg.inv(truth), points)
    return float(np.linalg.norm(moved, axis=1).max())


def test_srgb_round_trip_and_linear_exposure():
    x = np.linspace(0, 1, 256, dtype=np.float32)
    assert np.abs(to_srgb(to_linear(x)) - x).max() < 1e-5
    assert abs(float(to_linear(np.float32(0.5))) - 0.2140) < 1e-3  # the sRGB curve, not a gamma of 2.2


@needs_data
def test_alignment_recovers_a_handheld_retake(photo_case):
    case = photo_case
    background, valid, alignment = align_plate(case.image, case.plate)
    seen = (case.alpha < 0.99) & valid
    assert largest_shift(alignment.homography, case.plate_to_image, seen) < 1.0
    assert alignment.coverage > 0.9 and alignment.inliers >= 30
    assert np.allclose(alignment.gain, 2.0 ** -case.perturbation.exposure, rtol=0.05), "exposure undone in linear light"
    assert np.abs(alignment.bias).max() < 0.01
    inside = seen.copy()
    inside[:20], inside[-20:], inside[:, :20], inside[:, -20:] = False, False, False, False
    error = np.abs(background - case.background).max(axis=2)[inside]
    assert np.median(error) < 2.5 * case.perturbation.noise, "the aligned plate is the true background, plus noise"


@needs_data
def test_alignment_failures_say_why(photo_case):
    case = photo_case
    other = load_image(SHARED_DATA / "input" / "GT02.png")
    with pytest.raises(AlignmentError, match="does not match the image"):
        align_plate(case.image, other)
    with pytest.raises(AlignmentError, match="does not match the image"):
        align_plate(case.image, np.full((300, 400, 3), 0.4, np.float32))
    h, w = case.plate.shape[:2]
    corner = np.ascontiguousarray(case.plate[: h // 2, : w // 2])
    with pytest.raises(AlignmentError, match="covers only"):
        align_plate(case.image, corner)
    with pytest.raises(ParameterError):
        align_plate(case.image, case.plate[:, :, 0])


def test_the_plate_prior_reads_alpha_off_the_known_background():
    h, w = 40, 120
    background = textured(h, w, seed=2).astype(np.float32) / 255.0
    colour = np.float32([0.95, 0.1, 0.05])
    background[10:20, 60:70] = colour  # a patch of background coloured like the subject
    alpha = np.clip((np.arange(w, dtype=np.float32) - 30) / 60, 0, 1)[None, :].repeat(h, axis=0)
    alpha = 1.0 - alpha  # foreground on the left, fading out to the right
    image = alpha[..., None] * colour + (1 - alpha[..., None]) * background
    trimap = np.full((h, w), 128, np.uint8)
    trimap[:, :25] = 255
    trimap[:, 100:] = 0
    prior, weight = plate_prior(image, background, np.ones((h, w), bool), trimap, noise=0.01)
    unknown = trimap == 128
    confident = unknown & (np.linalg.norm(background - colour, axis=2) > 0.3)
    assert np.abs(prior - alpha)[confident].max() < 0.02
    assert np.all(weight[~unknown] == 0) and weight[confident].min() > 0.5
    near = unknown & (np.linalg.norm(background - colour, axis=2) < 0.05)
    assert near.sum() == 100
    assert weight[near].max() < 0.1 * weight[confident].min(), "a background like the subject says little"


def test_the_solver_follows_a_confident_prior_and_checks_it():
    rng = np.random.default_rng(0)
    image = rng.random((30, 40, 3)).astype(np.float32)
    trimap = np.full((30, 40), 128, np.uint8)
    trimap[:, :5], trimap[:, -5:] = 255, 0
    wanted = np.full((30, 40), 0.3, np.float32)
    followed = estimate_alpha_info_flow(image, trimap, prior=(wanted, np.full((30, 40), 100.0, np.float32)), stretch=0)
    free = estimate_alpha_info_flow(image, trimap, stretch=0)
    assert np.abs(followed[trimap == 128] - 0.3).mean() < 0.01 and np.abs(followed[trimap == 128] - 0.3).max() < 0.05
    assert np.abs(free[trimap == 128] - 0.3).mean() > 0.05
    with pytest.raises(ParameterError, match="prior"):
        estimate_alpha_info_flow(image, trimap, prior=(wanted[:5], wanted[:5]))


def test_foreground_colours_with_the_known_background_are_better():
    h, w = 60, 80
    rng = np.random.default_rng(1)
    background = textured(h, w, seed=4).astype(np.float32) / 255.0
    foreground = np.clip(np.float32([0.2, 0.7, 0.3]) + rng.normal(0, 0.03, (h, w, 3)), 0, 1).astype(np.float32)
    alpha = np.clip(rng.random((h, w)), 0, 1).astype(np.float32)
    image = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    soft = (alpha > 0.3) & (alpha < 0.9)
    guessed = estimate_foreground_blur_fusion(image, alpha)
    known = estimate_foreground_blur_fusion(image, alpha, background=background)
    assert np.abs(known - foreground)[soft].mean() < 0.5 * np.abs(guessed - foreground)[soft].mean()
    with pytest.raises(ParameterError, match="background"):
        estimate_foreground_blur_fusion(image, alpha, background=background[:10])


def test_the_trimap_leaves_holes_to_the_solver_and_uses_the_model_beyond_the_plate():
    changed = np.zeros((60, 80), bool)
    changed[10:50, 10:50] = True
    changed[25:35, 25:35] = False  # a hole: background seen through, or subject like the background
    valid = np.ones((60, 80), bool)
    valid[:, 70:] = False  # the plate does not reach
    coarse = np.zeros((60, 80), np.float32)
    coarse[10:50, 10:50] = 1.0
    coarse[20:40, 60:80] = 1.0  # the model's subject, partly where the plate does not reach
    trimap = plate_trimap(changed, valid, coarse, band_px=3)
    assert trimap[30, 30] == 128, "a hole the model calls subject is for the solver"
    assert trimap[15, 15] == 255 and trimap[2, 2] == 0
    assert trimap[30, 76] == 255, "beyond the plate the model decides"
    assert trimap[30, 62] == 0, "where the plate reaches and nothing changed, it is background"


def test_every_refinement_mode_runs_with_a_plate():
    image, plate, truth = plate_scene()
    image, plate = uint8_to_float(image), uint8_to_float(plate)
    region = np.ones(truth.shape, bool)
    plain = sad(select_subject(image, reddish, MatteOptions(refine="fast")).alpha, truth, region)
    for mode, budget in (("none", None), ("fast", None), ("best", None), ("best", 2000)):
        options = MatteOptions(refine=mode) if budget is None else MatteOptions(refine=mode, max_unknown=budget)
        matte = plate_matte(image, plate, reddish, options)
        if budget is not None:  # solved smaller to fit the budget of unknown pixels
            assert np.count_nonzero(matte.trimap == 128) <= budget < np.count_nonzero(first_best.trimap == 128)
        elif mode == "best":
            first_best = matte
        assert matte.alpha.shape == truth.shape and matte.foreground.shape == image.shape
        assert matte.background.shape == image.shape and matte.known.mean() > 0.9
        assert sad(matte.alpha, truth, region) < 0.3 * plain, mode
        assert {"model", "align", "trimap", "refine", "foreground"} <= set(matte.timings)


@needs_data
def test_plate_matte_beats_select_subject_on_a_photo(photo_case, real_session):
    case = photo_case
    region = np.ones(case.alpha.shape, bool)
    plain = select_subject(case.image, real_session.predict)
    matte = plate_matte(case.image, case.plate, real_session.predict)
    assert sad(matte.alpha, case.alpha, region) < 0.6 * sad(plain.alpha, case.alpha, region)
    assert sad(matte.alpha, case.alpha, region) < 10.0
    soft = (case.alpha > 0.2) & (case.alpha < 0.8) & (matte.alpha > 0.2)
    assert soft.sum() > 100


@needs_data
def test_a_plate_far_larger_than_the_working_image_aligns(photo_case):
    """A 12 MP plate for a 0.6 MP working image is a size ratio, not a zoom."""
    import cv2

    case = photo_case
    h, w = case.plate.shape[:2]
    big = np.clip(cv2.resize(case.plate, (w * 5, h * 5), interpolation=cv2.INTER_CUBIC), 0, 1)
    _, _, alignment = align_plate(case.image, big)
    truth = case.plate_to_image @ scale_matrix(0.2)  # big plate pixels → plate pixels → image pixels
    seen = case.alpha < 0.99
    assert largest_shift(alignment.homography, truth, seen) < 1.0
