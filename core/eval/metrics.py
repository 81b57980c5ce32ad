"""Standard matting error metrics (Deep Image Matting / Composition-1k definitions).

Every function takes
    pred:  (H, W) float in [0, 1], the estimated alpha,
    gt:    (H, W) float in [0, 1], the ground-truth alpha,
    region: (H, W) bool, the pixels that are scored (a trimap's unknown band, or
            the whole image for trimap-free evaluation),
and returns a float. SAD, gradient and connectivity errors are divided by 1000
as in the published tables; MSE is the plain mean over the region.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.ndimage

from core.errors import ParameterError


def _check(pred: np.ndarray, gt: np.ndarray, region: np.ndarray) -> None:
    if pred.shape != gt.shape or pred.shape != region.shape or pred.ndim != 2:
        raise ParameterError(
            f"pred, gt and region must be (H, W) arrays of one shape; got "
            f"{pred.shape}, {gt.shape}, {region.shape}"
        )


def sad(pred: np.ndarray, gt: np.ndarray, region: np.ndarray) -> float:
    """Sum of absolute differences over ``region``, divided by 1000."""
    _check(pred, gt, region)
    return float(np.abs(pred.astype(np.float64) - gt)[region].sum() / 1000.0)


def best_union_sad(layers: np.ndarray, gt: np.ndarray) -> tuple[float, tuple[int, ...]]:
    """The whole-image SAD of the union (sum) of soft layers closest to ``gt``, and that union.

    layers: (K, H, W) float alphas (all 2^K − 1 non-empty unions are tried: K ≤ 10 or so);
    gt: (H, W) float in [0, 1]. Returns (SAD, the layer indices in the union).
    """
    region = np.ones(gt.shape, bool)
    best: tuple[float, tuple[int, ...]] = (np.inf, ())
    for size in range(1, layers.shape[0] + 1):
        for subset in itertools.combinations(range(layers.shape[0]), size):
            best = min(best, (sad(layers[list(subset)].sum(axis=0), gt, region), subset))
    return best


def mse(pred: np.ndarray, gt: np.ndarray, region: np.ndarray) -> float:
    """Mean squared error over ``region`` (0 when the region is empty)."""
    _check(pred, gt, region)
    n = int(region.sum())
    if n == 0:
        return 0.0
    return float(((pred.astype(np.float64) - gt) ** 2)[region].sum() / n)


def _gauss_derivative_kernels(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """First-derivative-of-Gaussian kernels as in the DIM evaluation code."""
    epsilon = 1e-2
    half = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(np.sqrt(2.0 * np.pi) * sigma * epsilon))))
    size = 2 * half + 1
    y, x = np.mgrid[0:size, 0:size] - half
    g = np.exp(-(x**2 + y**2) / (2.0 * sigma**2)) / (2.0 * np.pi * sigma**2)
    dx = -x * g / sigma**2
    dx = dx / np.sqrt(np.sum(np.abs(dx) * np.abs(dx)))
    return dx, dx.T


def gradient_error(pred: np.ndarray, gt: np.ndarray, region: np.ndarray, *, sigma: float = 1.4) -> float:
    """Squared difference of Gaussian-gradient magnitudes over ``region``, / 1000."""
    _check(pred, gt, region)
    kx, ky = _gauss_derivative_kernels(sigma)

    def magnitude(a: np.ndarray) -> np.ndarray:
        a = a.astype(np.float64)
        gx = scipy.ndimage.convolve(a, kx, mode="nearest")
        gy = scipy.ndimage.convolve(a, ky, mode="nearest")
        return np.sqrt(gx * gx + gy * gy)

    diff = (magnitude(pred) - magnitude(gt)) ** 2
    return float(diff[region].sum() / 1000.0)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, count = scipy.ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count == 0:
        return np.zeros_like(mask, dtype=bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def connectivity_error(pred: np.ndarray, gt: np.ndarray, region: np.ndarray, *, step: float = 0.1) -> float:
    """Connectivity error (Rhemann et al. 2009) over ``region``, / 1000."""
    _check(pred, gt, region)
    pred = pred.astype(np.float64)
    gt = gt.astype(np.float64)
    thresholds = np.arange(0.0, 1.0 + step, step)
    level = np.full(pred.shape, -1.0)
    for i in range(1, len(thresholds)):
        omega = _largest_component((pred >= thresholds[i]) & (gt >= thresholds[i]))
        level[(level == -1.0) & ~omega] = thresholds[i - 1]
    level[level == -1.0] = 1.0
    pred_d = pred - level
    gt_d = gt - level
    pred_phi = 1.0 - pred_d * (pred_d >= 0.15)
    gt_phi = 1.0 - gt_d * (gt_d >= 0.15)
    return float(np.abs(pred_phi - gt_phi)[region].sum() / 1000.0)


METRICS = {
    "sad": sad,
    "mse": mse,
    "grad": gradient_error,
    "conn": connectivity_error,
}


def flicker(mattes: list[np.ndarray], truth: list[np.ndarray]) -> float:
    """Temporal flicker of a sequence of mattes beyond the truth's own change: the mean over
    frames t ≥ 1 and pixels of max(0, |α_t − α_{t−1}| − |gt_t − gt_{t−1}|), × 1000.

    mattes, truth: equally long lists of (H, W) float in [0, 1] (at least two frames).
    """
    if len(mattes) != len(truth) or len(mattes) < 2:
        raise ParameterError(f"flicker: expected two equally long sequences of 2+ frames; got {len(mattes)}, {len(truth)}")
    values = [np.maximum(0.0, np.abs(a1 - a0) - np.abs(g1 - g0)).mean()
              for a0, a1, g0, g1 in zip(mattes, mattes[1:], truth, truth[1:])]
    return 1000.0 * float(np.mean(values))


def change_error(a0: np.ndarray, a1: np.ndarray, g0: np.ndarray, g1: np.ndarray) -> float:
    """One frame step's part of :func:`truth_flicker`: mean |(a1 − a0) − (g1 − g0)|.

    a0, a1: (H, W) float in [0, 1], consecutive mattes; g0, g1: the same frames' truth.
    """
    if not a0.shape == a1.shape == g0.shape == g1.shape or a0.ndim != 2:
        raise ParameterError(f"change_error: expected four (H, W) arrays of one shape; got "
                             f"{a0.shape}, {a1.shape}, {g0.shape}, {g1.shape}")
    return float(np.mean(np.abs((a1.astype(np.float64) - a0) - (g1.astype(np.float64) - g0))))


def truth_flicker(mattes: list[np.ndarray], truth: list[np.ndarray]) -> float:
    """Temporal flicker as the shared DAVIS set's README defines it: the mean over frames
    t ≥ 1 of mean |(α_t − α_{t−1}) − (gt_t − gt_{t−1})|, unscaled (α and gt in [0, 1]).

    Unlike :func:`flicker` it counts any change that differs from the truth's, in either
    direction (a matte that lags the subject's motion counts too).
    mattes, truth: equally long lists of (H, W) float in [0, 1] (at least two frames).
    """
    if len(mattes) != len(truth) or len(mattes) < 2:
        raise ParameterError(f"truth_flicker: expected two equally long sequences of 2+ frames; got {len(mattes)}, {len(truth)}")
    return float(np.mean([change_error(a0, a1, g0, g1) for a0, a1, g0, g1 in zip(mattes, mattes[1:], truth, truth[1:])]))


def all_metrics(pred: np.ndarray, gt: np.ndarray, region: np.ndarray) -> dict[str, float]:
    """All four metrics as ``{"sad": ..., "mse": ..., "grad": ..., "conn": ...}``."""
    return {name: fn(pred, gt, region) for name, fn in METRICS.items()}
