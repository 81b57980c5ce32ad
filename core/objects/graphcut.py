"""The colour graph cut under Object Selection: OpenCV's GrabCut (Rother et al. 2004: colour
GMMs for object and background, a min-cut with contrast-sensitive smoothness), seeded with
labels that come from the model and the prompts.

Labels are OpenCV's: ``cv2.GC_BGD`` 0 (sure background), ``cv2.GC_FGD`` 1 (sure object),
``cv2.GC_PR_BGD`` 2 and ``cv2.GC_PR_FGD`` 3 (probable: the cut may change them).
"""

from __future__ import annotations

import cv2
import numpy as np

UNDECIDED_MAX = 20_000
"""The most undecided pixels one cut decides at the working grid; more, and the cut runs on a coarser
grid (min-cut time grows fast with an ambiguous undecided area: a lasso where the model sees nothing
took 2 s at 73k pixels, 0.09 s at 18k)."""

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


def graph_cut(image: np.ndarray, labels: np.ndarray, *, iterations: int = 3,
              within: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """(h, w) bool object after GrabCut from ``labels``; ``image``: (h, w, 3) uint8 RGB.

    within: (x0, y0, x1, y1), cut only there (its colour models learnt from its pixels alone);
    outside, the labels stand. More than :data:`UNDECIDED_MAX` undecided pixels there: the cut is
    made on a grid coarse enough to hold that many, and sure labels are kept at the full grid. Both
    colour models need samples: with no object-side or no background-side label the labels are
    returned as they stand. ``labels`` is left as it was."""
    is_object = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    x0, y0, x1, y1 = within or (0, 0, labels.shape[1], labels.shape[0])
    crop = labels[y0:y1, x0:x1]
    if crop.size == 0 or not ((crop == cv2.GC_FGD) | (crop == cv2.GC_PR_FGD)).any() or \
            not ((crop == cv2.GC_BGD) | (crop == cv2.GC_PR_BGD)).any() or not (crop != cv2.GC_FGD).any() or \
            not (crop != cv2.GC_BGD).any():
        return is_object
    pixels = image[y0:y1, x0:x1]
    undecided = int(((crop == cv2.GC_PR_BGD) | (crop == cv2.GC_PR_FGD)).sum())
    shrink = min(1.0, float(np.sqrt(UNDECIDED_MAX / undecided))) if undecided else 1.0
    size = (max(1, round(crop.shape[1] * shrink)), max(1, round(crop.shape[0] * shrink)))
    if shrink < 1.0:  # a large undecided area: the cut at a coarser grid (the soft edge is refined after)
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_NEAREST)
    mask = np.array(crop, np.uint8, order="C")  # GrabCut writes its answer here: never into the caller's labels
    background_model, object_model = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models by k-means from the thread's RNG: same labels, same cut
    cv2.grabCut(cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2BGR), mask, None,
                background_model, object_model, iterations, cv2.GC_INIT_WITH_MASK)
    found = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    if shrink < 1.0:
        found = cv2.resize(found, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        sure = labels[y0:y1, x0:x1]  # the user's and the model's sure labels stand at full grid
        found[sure == cv2.GC_FGD], found[sure == cv2.GC_BGD] = 1, 0
    is_object[y0:y1, x0:x1] = found > 0
    return is_object


def undecided_bounds(labels: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the box around the labels that are not sure background, grown by ``margin``
    of its size a side (at least 16 px), inside the image: where a cut can change anything, and
    background around it for the colour models."""
    ys, xs = np.nonzero(labels != cv2.GC_BGD)
    if not len(xs):
        return 0, 0, 0, 0
    return grown((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1), margin, labels.shape)


def grown(rect: tuple[int, int, int, int], margin: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``rect`` (x0, y0, x1, y1) grown by ``margin`` of its size a side (at least 16 px), inside ``shape``."""
    x0, y0, x1, y1 = rect
    gx, gy = max(16, int(margin * (x1 - x0))), max(16, int(margin * (y1 - y0)))
    return max(0, x0 - gx), max(0, y0 - gy), min(shape[1], x1 + gx), min(shape[0], y1 + gy)


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
