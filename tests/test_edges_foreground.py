"""Edge controls, foreground decontamination and compositing on synthetic mattes."""

from __future__ import annotations

import numpy as np
import pytest

from sample_images import red_disc_image
from core.composite import cutout_rgba, over_colour, parse_colour
from core.edges import EdgeControls, apply_edges
from core.errors import ParameterError
from core.foreground.blur_fusion import decontaminate, estimate_foreground_blur_fusion


def _ramp(width: int = 200) -> np.ndarray:
    x = np.linspace(-1, 1, width, dtype=np.float32)
    return np.tile(np.clip(x * 8 + 0.5, 0, 1), (20, 1))


def test_identity_controls_change_nothing():
    alpha = _ramp()
    assert EdgeControls().is_identity
    np.testing.assert_array_equal(apply_edges(alpha, EdgeControls()), alpha)


@pytest.mark.parametrize("control", ["smooth", "feather"])
def test_the_smallest_positive_control_changes_nothing_and_does_not_fail(control):
    """smooth = 5e-324 (found by the engine's frame fuzzer): smooth / 10 underflows to a 0 px blur,
    which OpenCV refuses; a blur that narrow is no blur."""
    alpha = _ramp()
    np.testing.assert_array_equal(apply_edges(alpha, EdgeControls(**{control: 5e-324})), alpha)


def test_feather_widens_and_contrast_narrows_the_transition():
    alpha = _ramp()

    def soft_width(a):
        return int(((a > 0.02) & (a < 0.98)).sum(axis=1)[0])

    base = soft_width(alpha)
    assert soft_width(apply_edges(alpha, EdgeControls(feather=5))) > base + 10
    assert soft_width(apply_edges(alpha, EdgeControls(contrast=80))) < base
    hard = apply_edges(alpha, EdgeControls(contrast=100))
    assert set(np.unique(hard)) <= {0.0, 1.0}


def test_shift_edge_moves_the_edge_outwards_or_inwards():
    alpha = _ramp()
    out = apply_edges(alpha, EdgeControls(shift_edge=50))
    inn = apply_edges(alpha, EdgeControls(shift_edge=-50))
    assert out.sum() > alpha.sum() > inn.sum()
    assert out.max() <= 1.0 and inn.min() >= 0.0


def test_smooth_removes_jaggies_but_keeps_the_shape():
    yy, xx = np.mgrid[0:100, 0:100]
    jagged = ((xx + 3 * ((yy // 2) % 2)) < 50).astype(np.float32)
    smooth = apply_edges(jagged, EdgeControls(smooth=30))
    assert abs(smooth.mean() - jagged.mean()) < 0.03
    row_edges = np.argmax(smooth < 0.5, axis=1)
    assert row_edges.std() < np.argmax(jagged < 0.5, axis=1).std()


def test_edge_controls_validate_ranges():
    with pytest.raises(ParameterError, match="contrast"):
        EdgeControls(contrast=150)
    with pytest.raises(ParameterError, match="shift_edge"):
        EdgeControls(shift_edge=-101)
    with pytest.raises(ParameterError, match="alpha"):
        apply_edges(np.zeros((2, 2, 2), np.float32), EdgeControls())


def test_blur_fusion_recovers_the_foreground_colour_at_soft_edges():
    image, alpha = red_disc_image(200, 260)
    fg = estimate_foreground_blur_fusion(image, alpha)
    assert fg.shape == image.shape and fg.dtype == np.float32
    rim = (alpha > 0.15) & (alpha < 0.85)
    red = np.array([0.9, 0.2, 0.1], np.float32)
    contaminated = np.abs(image[rim] - red).mean()
    cleaned = np.abs(fg[rim] - red).mean()
    assert cleaned < 0.3 * contaminated


def test_blur_fusion_large_image_uses_reduced_wide_pass():
    image, alpha = red_disc_image(900, 1400)  # 1.26 MP > the 1 MP wide-pass budget
    fg = estimate_foreground_blur_fusion(image, alpha, max_blur_pixels=200_000)
    rim = (alpha > 0.15) & (alpha < 0.85)
    assert np.abs(fg[rim] - np.array([0.9, 0.2, 0.1])).mean() < 0.05


def test_decontaminate_amount_blends():
    image, alpha = red_disc_image()
    np.testing.assert_array_equal(decontaminate(image, alpha, amount=0.0), image)
    half = decontaminate(image, alpha, amount=0.5)
    full = decontaminate(image, alpha, amount=1.0)
    np.testing.assert_allclose(half, 0.5 * full + 0.5 * image, atol=1e-5)
    with pytest.raises(ParameterError):
        decontaminate(image, alpha, amount=2)


def test_cutout_and_flat_background():
    image, alpha = red_disc_image()
    rgba = cutout_rgba(image, alpha)
    assert rgba.shape == alpha.shape + (4,) and rgba.dtype == np.uint8
    assert rgba[0, 0, 3] == 0 and rgba[60, 80, 3] == 255
    flat = over_colour(image, alpha, parse_colour("#00ff00"))
    assert tuple(flat[0, 0]) == (0, 255, 0)
    assert parse_colour("255,0,0") == (1.0, 0.0, 0.0)
    with pytest.raises(ParameterError):
        parse_colour("#12")


def test_resizing_a_white_image_stays_in_range():
    from core.subject.working import resize_image, working_size

    white = np.ones((1999, 2999, 3), np.float32)
    small = resize_image(white, working_size(white.shape, 600_000))
    assert small.max() <= 1.0 and small.shape[0] * small.shape[1] <= 600_000


def test_subject_box_holds_every_visible_pixel_with_a_margin_and_is_the_whole_image_when_empty():
    from core.composite import subject_box

    alpha = np.zeros((40, 60), np.float32)
    alpha[10:20, 30:35] = 1.0
    alpha[25, 12] = 0.5
    assert subject_box(alpha) == (10, 8, 27, 20)  # x 12..34, y 10..25, grown by 2
    assert subject_box(alpha, margin=0) == (12, 10, 23, 16)
    assert subject_box((alpha * 255).astype(np.uint8), margin=0) == (12, 10, 23, 16)
    edge = np.zeros((5, 5), np.float32)
    edge[0, 4] = 1.0
    assert subject_box(edge) == (2, 0, 3, 3)  # the margin stops at the image's edge
    assert subject_box(np.zeros((7, 9), np.float32)) == (0, 0, 9, 7)
    assert subject_box(np.full((7, 9), 0.5 / 255, np.float32)) == (0, 0, 9, 7)  # below the threshold
