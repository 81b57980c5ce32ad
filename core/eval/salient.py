"""Salient-object metrics against a binary mask, as lartpang/PySODMetrics defines them.

Every function takes
    pred: (H, W) float in [0, 1], the predicted matte (scored as it is: no min-max
          stretch, i.e. PySODMetrics' ``normalize=False`` path),
    gt:   (H, W) bool, the ground-truth mask,
and returns a float (:func:`f_curve`: an array). Computed in float64.

- MAE: mean |pred − gt|.
- F-measure curve: precision and recall of ``pred ≥ t / 255`` for the 256 thresholds,
  F = (1 + β²)·P·R / (β²·P + R) with β² = 0.3. A data set's max F is the maximum over
  thresholds of the curve averaged over its images (:func:`max_f`).
- S-measure (Fan et al., ICCV 2017), α = 0.5: object-aware and region-aware structural
  similarity, with PySODMetrics' cases for an all-background (1 − mean pred) and an
  all-foreground mask (mean pred).
- IoU of ``pred ≥ 0.5`` against the mask (1 when both are empty).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.errors import ParameterError

BETA_SQ = 0.3
"""The F-measure's β² (precision weighted over recall)."""

S_ALPHA = 0.5
"""The S-measure's weight of the object term (1 − α: the region term)."""

_EPS = np.spacing(1.0)  # MATLAB's eps, as PySODMetrics uses it


def _check(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if pred.ndim != 2 or pred.shape != gt.shape:
        raise ParameterError(f"pred, gt: expected (H, W) arrays of one shape; got {pred.shape} and {gt.shape}")
    if gt.dtype != bool:
        raise ParameterError(f"gt: expected a bool mask; got {gt.dtype}")
    if not np.issubdtype(pred.dtype, np.floating):
        raise ParameterError(f"pred: expected float values in [0, 1]; got {pred.dtype}")
    pred = pred.astype(np.float64)
    if pred.size and (pred.min() < 0.0 or pred.max() > 1.0):
        raise ParameterError(f"pred: expected values in [0, 1]; got [{pred.min()}, {pred.max()}]")
    return pred, gt


def mae(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean absolute error between the matte and the 0/1 mask."""
    pred, gt = _check(pred, gt)
    return float(np.mean(np.abs(pred - gt)))


def f_curve(pred: np.ndarray, gt: np.ndarray, *, beta_sq: float = BETA_SQ) -> np.ndarray:
    """F-measure at each threshold: (256,) float64, element t for ``pred ≥ t / 255``
    (``pred`` is quantised as ``uint8(pred · 255)``, truncating, as in PySODMetrics).
    A threshold with no true positive scores 0."""
    pred, gt = _check(pred, gt)
    levels = (pred * 255).astype(np.uint8)
    bins = np.arange(257)
    fg_hist, _ = np.histogram(levels[gt], bins=bins)
    bg_hist, _ = np.histogram(levels[~gt], bins=bins)
    true_pos = np.cumsum(fg_hist[::-1])[::-1].astype(np.float64)  # pixels ≥ t inside the mask
    positives = true_pos + np.cumsum(bg_hist[::-1])[::-1]
    positives[positives == 0] = 1.0
    precision = true_pos / positives
    recall = true_pos / max(np.count_nonzero(gt), 1)
    numerator = (1.0 + beta_sq) * precision * recall
    denominator = np.where(numerator == 0, 1.0, beta_sq * precision + recall)
    return numerator / denominator


def max_f(curves: Sequence[np.ndarray]) -> float:
    """A data set's max F-measure: the maximum over thresholds of the mean of the
    images' :func:`f_curve` curves (one image: its own maximum)."""
    if len(curves) == 0:
        raise ParameterError("curves: expected at least one F-measure curve")
    return float(np.max(np.mean(np.stack(curves), axis=0)))


def _s_object(x: np.ndarray) -> float:
    mean = np.mean(x)
    std = np.std(x, ddof=1) if x.size > 1 else 0.0
    return 2.0 * mean / (mean * mean + 1.0 + std + _EPS)


def _object_score(pred: np.ndarray, gt: np.ndarray) -> float:
    share = np.mean(gt)
    return _s_object(pred[gt]) * share + _s_object(1.0 - pred[~gt]) * (1.0 - share)


def _ssim(pred: np.ndarray, gt: np.ndarray) -> float:
    n = pred.size
    x, y = np.mean(pred), np.mean(gt)
    sigma_x = np.sum((pred - x) ** 2) / (n - 1 + _EPS)
    sigma_y = np.sum((gt - y) ** 2) / (n - 1 + _EPS)
    sigma_xy = np.sum((pred - x) * (gt - y)) / (n - 1 + _EPS)
    alpha = 4.0 * x * y * sigma_xy
    beta = (x * x + y * y) * (sigma_x + sigma_y)
    if alpha != 0:
        return alpha / (beta + _EPS)
    return 1.0 if beta == 0 else 0.0


def _region_score(pred: np.ndarray, gt: np.ndarray) -> float:
    """The four quadrants around the mask's centroid (rounded, + 1 as in the MATLAB
    original), each's SSIM weighted by its area."""
    h, w = gt.shape
    area = h * w
    cy, cx = np.argwhere(gt).mean(axis=0).round()
    cy, cx = int(cy) + 1, int(cx) + 1
    w_lt = cx * cy / area
    w_rt = cy * (w - cx) / area
    w_lb = (h - cy) * cx / area
    w_rb = 1.0 - w_lt - w_rt - w_lb
    gt = gt.astype(np.float64)
    quadrants = ((slice(0, cy), slice(0, cx), w_lt), (slice(0, cy), slice(cx, w), w_rt),
                 (slice(cy, h), slice(0, cx), w_lb), (slice(cy, h), slice(cx, w), w_rb))
    # An empty quadrant (the centroid on the last row or column) weighs nothing; PySODMetrics
    # would take the SSIM of an empty array there and return NaN.
    return sum(_ssim(pred[rows, cols], gt[rows, cols]) * weight
               for rows, cols, weight in quadrants if pred[rows, cols].size)


def s_measure(pred: np.ndarray, gt: np.ndarray, *, alpha: float = S_ALPHA) -> float:
    """Structure measure: max(0, α·object + (1 − α)·region); 1 − mean(pred) for an empty
    mask, mean(pred) for a full one."""
    pred, gt = _check(pred, gt)
    share = np.mean(gt)
    if share == 0:
        return float(1.0 - np.mean(pred))
    if share == 1:
        return float(np.mean(pred))
    return float(max(0.0, alpha * _object_score(pred, gt) + (1.0 - alpha) * _region_score(pred, gt)))


def iou(pred: np.ndarray, gt: np.ndarray, *, threshold: float = 0.5) -> float:
    """Intersection over union of ``pred ≥ threshold`` and the mask (1 when both are empty)."""
    pred, gt = _check(pred, gt)
    chosen = pred >= threshold
    union = np.count_nonzero(chosen | gt)
    return 1.0 if union == 0 else float(np.count_nonzero(chosen & gt) / union)
