"""Trimap trimming from the edges of the unknown region (Shahrian, Rajan, Price, Cohen, CVPR 2013).

An unknown pixel close to a known one and of nearly the same colour takes that
known label. The search radius grows from 1 to ``iterations`` pixels while the
colour threshold shrinks, so only near, very similar pixels are labelled far
from the boundary; each round sees the labels of the previous one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from core.alpha._inputs import check_image, check_positive, check_trimap


@njit(cache=True, nogil=True)
def _expand_labels(image, labels, out, offsets_y, offsets_x, max_dist2):  # pragma: no cover - numba
    h, w = labels.shape
    for y in range(h):
        for x in range(w):
            if labels[y, x] >= 0:
                continue
            for k in range(offsets_y.size):
                yy = y + offsets_y[k]
                xx = x + offsets_x[k]
                if yy < 0 or yy >= h or xx < 0 or xx >= w or labels[yy, xx] < 0:
                    continue
                d2 = 0.0
                for c in range(3):
                    t = image[yy, xx, c] - image[y, x, c]
                    d2 += t * t
                if d2 < max_dist2:
                    out[y, x] = labels[yy, xx]
                    break


def edge_trim_labels(
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    iterations: int = 9,
    max_color_distance: float = 9.0 / 256.0,
    min_color_distance: float = 1.0 / 256.0,
) -> np.ndarray:
    """Label unknown pixels that match a nearby known pixel's colour.

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB
    trimap : (H, W) uint8; 0 = background, 255 = foreground, any other value = unknown.
    iterations : int
        Rounds of expansion; round i searches a (2i + 1)^2 window.
    max_color_distance, min_color_distance : float
        Euclidean RGB distance thresholds; round i uses
        ``max - i * (max - min) / iterations``.

    Returns
    -------
    labels : (H, W) int8; 1 = foreground, 0 = background, -1 = still unknown.
        Within a window the nearest (Euclidean) qualifying known pixel wins.
    """
    check_image(image)
    check_trimap(trimap, image.shape[:2])
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    check_positive(max_color_distance, "max_color_distance", allow_zero=True)
    check_positive(min_color_distance, "min_color_distance", allow_zero=True)
    labels = np.full(trimap.shape, -1, dtype=np.int8)
    labels[trimap == 0] = 0
    labels[trimap == 255] = 1
    colors = np.ascontiguousarray(image, dtype=np.float32)
    for i in range(1, iterations + 1):
        threshold = max_color_distance - i * (max_color_distance - min_color_distance) / iterations
        dy, dx = np.mgrid[-i : i + 1, -i : i + 1]
        order = np.argsort(np.hypot(dy, dx).ravel(), kind="stable")
        out = labels.copy()
        _expand_labels(
            colors,
            labels,
            out,
            dy.ravel()[order].astype(np.int64),
            dx.ravel()[order].astype(np.int64),
            threshold * threshold,
        )
        labels = out
    return labels
