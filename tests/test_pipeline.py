"""Pipeline stages: working sizes, unknown budget, upsampling, trimap and mask refinement."""

from __future__ import annotations

import numpy as np
import pytest

from sample_images import furry_scene, red_disc_image, trimap_of
from core.alpha.info_flow import estimate_alpha_info_flow
from core.errors import ParameterError
from core.eval.metrics import sad
from core.subject.options import MatteOptions
from core.subject.select import select_subject
from core.subject.selection import refine_mask, refine_with_trimap
from core.subject.trimap import fit_unknown_budget
from core.subject.working import upsample_alpha, working_size
from core.views import CoarseMask


def _disc_trimap(alpha: np.ndarray) -> np.ndarray:
    trimap = np.full(alpha.shape, 128, np.uint8)
    trimap[alpha > 0.99] = 255
    trimap[alpha < 0.01] = 0
    return trimap


def test_info_flow_on_the_unknown_box_matches_the_whole_image():
    image, gt = furry_scene()  # hair strands in part of the frame
    trimap = trimap_of(gt)
    region = trimap == 128
    cropped = sad(estimate_alpha_info_flow(image, trimap), gt, region)
    whole = sad(estimate_alpha_info_flow(image, trimap, crop_margin=10.0), gt, region)  # box ⊇ image: no crop
    assert abs(cropped - whole) < 0.05 * whole + 0.05


def test_working_size_keeps_aspect_and_budget():
    assert working_size((4000, 6000, 3), 600_000) == (632, 949)
    assert working_size((100, 200), 1_000_000) == (100, 200)


def test_unknown_budget_shrinks_the_working_size():
    image, alpha = red_disc_image(400, 600)
    soft = np.clip(alpha * 0.5 + 0.25, 0, 1).astype(np.float32)  # unsure everywhere
    coarse = CoarseMask(alpha=soft, confidence=0.3, views=("plain",), certainties=(0.3,), source="plain")
    trimap = np.full(soft.shape, 128, np.uint8)
    small, small_coarse, small_trimap, _ = fit_unknown_budget(image, coarse, trimap, 20_000)
    assert small.shape[:2] == small_coarse.alpha.shape == small_trimap.shape
    assert ((small_trimap > 0) & (small_trimap < 255)).sum() <= 21_000
    same = fit_unknown_budget(image, coarse, trimap, 10**9)
    assert same[0] is image and same[2] is trimap


def test_upsampling_follows_the_full_size_edge_and_snaps_to_8_bit_levels():
    image, alpha = red_disc_image(600, 800)
    import cv2

    small = cv2.resize(image, (200, 150), interpolation=cv2.INTER_AREA)
    small_alpha = cv2.resize(alpha, (200, 150), interpolation=cv2.INTER_AREA)
    up = upsample_alpha(small_alpha, small, image)
    plain = cv2.resize(small_alpha, (800, 600), interpolation=cv2.INTER_LINEAR)
    assert up.shape == alpha.shape
    assert np.abs(up - alpha).mean() < np.abs(plain - alpha).mean()
    values = up[(up > 0) & (up < 1)]
    assert values.min() >= 0.5 / 255 and values.max() <= 1 - 0.5 / 255


def test_refine_with_trimap_and_mask_at_full_size():
    image, alpha = red_disc_image(300, 400)
    trimap = _disc_trimap(alpha)
    for mode in ("fast", "best"):
        out = refine_with_trimap(image, trimap, mode=mode, working_pixels=30_000)  # solved smaller, then upsampled
        assert out.shape == alpha.shape
        assert np.abs(out - alpha)[trimap == 128].mean() < 0.12
    with pytest.raises(ParameterError, match="'fast' or 'best'"):
        refine_with_trimap(image, trimap, mode="none")
    refined, mask_trimap = refine_mask(image, (alpha > 0.5).astype(np.float32), mode="best")
    assert set(np.unique(mask_trimap)) == {0, 128, 255}
    assert np.abs(refined - alpha).mean() < 0.01


def test_select_subject_outputs_full_size_and_stage_timings():
    image, alpha = red_disc_image(240, 320)

    def predict(rgb: np.ndarray) -> np.ndarray:  # "reddish is the subject", at any size
        return np.clip((rgb[..., 0] - rgb[..., 2]) * 2 + 0.5, 0, 1).astype(np.float32)

    matte = select_subject(image, predict, MatteOptions(refine="best", working_pixels=20_000))
    assert matte.alpha.shape == alpha.shape and matte.foreground.shape == image.shape
    assert matte.trimap.size <= 20_000 and matte.refined.shape == matte.trimap.shape
    assert set(matte.timings) == {"resize", "model", "trimap", "refine", "upsample", "edges", "foreground"}
    assert np.abs(matte.alpha - alpha).mean() < 0.02
    with pytest.raises(ParameterError, match="refine"):
        MatteOptions(refine="magic")


def test_unsure_results_are_flagged_by_confidence_disagreement_or_the_whole_frame():
    from core.subject.result import is_unsure

    disc = np.zeros((60, 80), np.float32)
    disc[15:45, 20:60] = 1.0

    def coarse(alpha, confidence=0.95):
        return CoarseMask(alpha=alpha, confidence=confidence, views=("plain",), certainties=(confidence,), source="plain")

    assert not is_unsure(coarse(disc), disc)
    assert is_unsure(coarse(disc, confidence=0.3), disc)  # the model's views were unsure
    half = disc.copy()
    half[:, 40:] = 0.0
    assert is_unsure(coarse(disc), half)  # the solver dropped half of what the model saw
    everything = np.ones_like(disc)
    everything[0, 0] = 0.0
    assert is_unsure(coarse(everything), everything)  # "the whole picture"
    # Shapes may differ (the refined alpha of a shrunk working size).
    assert not is_unsure(coarse(disc), disc[::2, ::2].copy())
