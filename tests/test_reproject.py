"""Alpha re-read from the estimated colours (core.alpha.reproject)."""

from __future__ import annotations

import cv2
import numpy as np

from core.alpha.reproject import reproject_alpha


def _strands(h: int = 60, w: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Thin partly transparent strands of one colour over a flat background: (image (h, w, 3) float32, alpha
    (h, w) float32), both in [0, 1]."""
    alpha = np.zeros((h, w), np.float32)
    alpha[:, :20] = 1.0
    for row in range(6, h, 8):
        alpha[row, 20:] = 0.6  # one-pixel strands, 60 % opaque
    fg, bg = np.array([0.8, 0.5, 0.2], np.float32), np.array([0.1, 0.3, 0.7], np.float32)
    image = alpha[..., None] * fg + (1.0 - alpha[..., None]) * bg
    return image.astype(np.float32), alpha


def test_a_solver_that_smeared_the_strands_gets_their_alpha_back():
    image, truth = _strands()
    smeared = cv2.GaussianBlur(truth, (0, 0), 1.0)  # a propagation solver's answer: strands too faint and too wide
    unknown = (smeared > 0.01) & (smeared < 0.99)
    again = reproject_alpha(image, smeared, unknown)
    assert again.dtype == np.float32 and again.shape == truth.shape
    assert np.abs(again - truth)[unknown].mean() < 0.85 * np.abs(smeared - truth)[unknown].mean()
    strands = (truth > 0.5) & (truth < 0.7)
    assert np.abs(again - truth)[strands].mean() < 0.8 * np.abs(smeared - truth)[strands].mean()
    np.testing.assert_array_equal(again[~unknown], smeared[~unknown])  # known pixels stay


def test_where_foreground_and_background_share_a_colour_the_solver_stays():
    image = np.full((40, 40, 3), 0.5, np.float32)  # no colour tells anything
    alpha = np.tile(np.linspace(0.0, 1.0, 40, dtype=np.float32), (40, 1))
    unknown = (alpha > 0.01) & (alpha < 0.99)
    np.testing.assert_allclose(reproject_alpha(image, alpha, unknown), alpha, atol=1e-6)


def test_nothing_unknown_returns_the_input():
    image, truth = _strands()
    assert reproject_alpha(image, truth, np.zeros(truth.shape, bool)) is truth
