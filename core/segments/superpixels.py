"""Compact superpixels by local k-means on (colour, position), SLIC-like.

OpenCV's ximgproc SLIC is only in opencv-contrib, which Softcut does not depend
on; a few Lloyd iterations in which each pixel compares only the centres of the
3 x 3 grid cells around its own cell do the same job at working resolution.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Superpixels(NamedTuple):
    """labels: (h, w) int32 in [0, n); centroids: (n,) int64 flat pixel index of each
    superpixel's centroid pixel; pairs: (P, 2) int64 adjacent superpixel pairs (i < j)."""

    labels: np.ndarray
    centroids: np.ndarray
    pairs: np.ndarray

    @property
    def count(self) -> int:
        return int(self.centroids.shape[0])

    def means(self, values: np.ndarray) -> np.ndarray:
        """(n, C) float64 mean of ``values`` (h, w, C) over each superpixel."""
        return _label_means(values.reshape(-1, values.shape[-1]), self.labels.ravel(), self.count)

    def normalised_centres(self) -> np.ndarray:
        """(n, 2) float64 centroid (y / h, x / w) of each superpixel."""
        h, w = self.labels.shape
        return np.stack([self.centroids // w / h, self.centroids % w / w], axis=1)


def compute_superpixels(image: np.ndarray, *, size: int = 80, compactness: float = 0.1, iterations: int = 5) -> Superpixels:
    """Superpixels of about ``size`` pixels each.

    Parameters
    ----------
    image : (h, w, 3) float32 in [0, 1], RGB.
    size : mean superpixel area in pixels, >= 1.
    compactness : weight of the position (in grid steps) against colour distance.
    iterations : Lloyd iterations.
    """
    h, w = image.shape[:2]
    step = max(1, int(round(size**0.5)))
    gh, gw = -(-h // step), -(-w // step)
    yy, xx = np.mgrid[0:h, 0:w]
    cell_y, cell_x = np.minimum(yy // step, gh - 1), np.minimum(xx // step, gw - 1)
    feats = np.concatenate([image.reshape(-1, 3), np.stack([yy.ravel(), xx.ravel()], 1) * (compactness / step)], 1)
    centres = _label_means(feats, (cell_y * gw + cell_x).ravel(), gh * gw)
    labels = (cell_y * gw + cell_x).ravel()
    for _ in range(iterations):
        best = np.full(h * w, np.inf)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                cy, cx = cell_y + dy, cell_x + dx
                ok = ((cy >= 0) & (cy < gh) & (cx >= 0) & (cx < gw)).ravel()
                cand = (np.clip(cy, 0, gh - 1) * gw + np.clip(cx, 0, gw - 1)).ravel()
                dist = ((feats - centres[cand]) ** 2).sum(1)
                dist[~ok | ~np.isfinite(dist)] = np.inf
                better = dist < best
                best[better], labels[better] = dist[better], cand[better]
        centres = _label_means(feats, labels, gh * gw)
    used, labels = np.unique(labels, return_inverse=True)
    labels = labels.reshape(h, w).astype(np.int32)
    return Superpixels(labels, _centroid_pixels(labels, len(used)), _adjacent_pairs(labels))


def _label_means(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """(n, F) float64 mean of ``values`` (N, F) per label of ``labels`` (N,); labels with no
    pixel get +inf (never the nearest centre)."""
    counts = np.bincount(labels, minlength=n)
    sums = np.stack([np.bincount(labels, values[:, f], minlength=n) for f in range(values.shape[1])], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    means[counts == 0] = np.inf
    return means


def _centroid_pixels(labels: np.ndarray, n: int) -> np.ndarray:
    h, w = labels.shape
    flat = labels.ravel()
    counts = np.maximum(np.bincount(flat, minlength=n), 1)
    yy, xx = np.divmod(np.arange(h * w), w)
    cy = np.rint(np.bincount(flat, yy, n) / counts).astype(np.int64)
    cx = np.rint(np.bincount(flat, xx, n) / counts).astype(np.int64)
    return np.clip(cy, 0, h - 1) * w + np.clip(cx, 0, w - 1)


def _adjacent_pairs(labels: np.ndarray) -> np.ndarray:
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
    keep = a != b
    pairs = np.stack([np.minimum(a, b)[keep], np.maximum(a, b)[keep]], 1).astype(np.int64)
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)
