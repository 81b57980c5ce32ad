"""Seeded inputs for the salient-object metric tests (shared by the tests and the script that
produced their reference values with PySODMetrics)."""

from __future__ import annotations

import numpy as np
import scipy.ndimage


def blob_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(h, w) bool: the union of 1–3 random ellipses."""
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    for _ in range(int(rng.integers(1, 4))):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        ry, rx = rng.uniform(0.08, 0.3) * h, rng.uniform(0.08, 0.3) * w
        mask |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
    return mask


def soft_prediction(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """(h, w) float64 in [0, 1]: the mask shifted, blurred and noisy, like a model's output."""
    shifted = np.roll(mask, (int(rng.integers(-3, 4)), int(rng.integers(-3, 4))), axis=(0, 1)).astype(np.float64)
    blurred = scipy.ndimage.gaussian_filter(shifted, rng.uniform(0.5, 3.0))
    return np.clip(blurred + rng.normal(0.0, 0.08, mask.shape), 0.0, 1.0)


def random_cases(count: int = 20, seed: int = 20) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` (prediction, mask) pairs of sizes around 40×50."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        h, w = int(rng.integers(30, 50)), int(rng.integers(40, 60))
        mask = blob_mask(rng, h, w)
        cases.append((soft_prediction(rng, mask), mask))
    return cases


def edge_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Named (prediction, mask) pairs at PySODMetrics' special cases."""
    rng = np.random.default_rng(7)
    soft = rng.uniform(0.0, 1.0, (20, 30))
    one_pixel = np.zeros((20, 30), bool)
    one_pixel[5, 7] = True
    corner = np.zeros((20, 30), bool)
    corner[:6, :4] = True
    return {
        "all_zero_gt": (soft, np.zeros((20, 30), bool)),
        "all_one_gt": (soft, np.ones((20, 30), bool)),
        "all_zero_gt_zero_pred": (np.zeros((20, 30)), np.zeros((20, 30), bool)),
        "one_pixel_gt": (soft, one_pixel),
        "constant_pred": (np.full((20, 30), 0.5), corner),
        "exact_pred": (corner.astype(np.float64), corner),
        "inverted_pred": (1.0 - corner.astype(np.float64), corner),
    }
