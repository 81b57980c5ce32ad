"""The colour graph cut under Object Selection: OpenCV's GrabCut (Rother et al. 2004: colour
GMMs for object and background, a min-cut with contrast-sensitive smoothness), seeded with
labels that come from the model and the prompts.

Labels are OpenCV's: ``cv2.GC_BGD`` 0 (sure background), ``cv2.GC_FGD`` 1 (sure object),
``cv2.GC_PR_BGD`` 2 and ``cv2.GC_PR_FGD`` 3 (probable: the cut may change them).
"""

from __future__ import annotations

import cv2
import numpy as np

SURE = 0.92
"""A model probability at or above which (or at or below 1 − SURE) a pixel is taken as sure,
where the prompts leave it so."""


def seed_labels(prior: np.ndarray, *, free: np.ndarray | None = None, sure_object: np.ndarray | None = None,
                sure_background: np.ndarray | None = None) -> np.ndarray:
    """Labels from ``prior`` ((h, w) float32 in [0, 1]: probable object at >= 0.5).

    Where ``free`` ((h, w) bool) is False the prior's confident pixels become sure; ``free``
    pixels stay probable, so the cut decides them. ``sure_object`` / ``sure_background`` (bool)
    are set last (the user's clicks win)."""
    labels = np.where(prior >= 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    if free is not None:
        labels[(prior >= SURE) & ~free] = cv2.GC_FGD
        labels[(prior <= 1 - SURE) & ~free] = cv2.GC_BGD
    if sure_background is not None:
        labels[sure_background] = cv2.GC_BGD
    if sure_object is not None:
        labels[sure_object] = cv2.GC_FGD
    return labels


def graph_cut(image: np.ndarray, labels: np.ndarray, *, iterations: int = 3) -> np.ndarray:
    """(h, w) bool object after GrabCut from ``labels``; ``image``: (h, w, 3) uint8 RGB.

    Both colour models need samples: with no object-side or no background-side label the
    labels are returned as they stand."""
    is_object = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    if is_object.all() or not is_object.any() or not (labels != cv2.GC_FGD).any() or not (labels != cv2.GC_BGD).any():
        return is_object
    mask = labels.copy()
    background_model, object_model = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), mask, None, background_model, object_model,
                iterations, cv2.GC_INIT_WITH_MASK)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def components_touching(object_mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The connected parts (8-connected) of ``object_mask`` that hold a ``seeds`` pixel (both (h, w) bool)."""
    count, parts = cv2.connectedComponents(object_mask.astype(np.uint8), connectivity=8)
    keep = np.unique(parts[seeds & object_mask])
    keep = keep[keep > 0]
    return np.isin(parts, keep) if keep.size else np.zeros_like(object_mask)


def largest_component(object_mask: np.ndarray) -> np.ndarray:
    """The largest connected part (8-connected) of ``object_mask``."""
    count, parts, stats, _ = cv2.connectedComponentsWithStats(object_mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return object_mask.copy()
    return parts == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
