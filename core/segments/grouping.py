"""Grouping many small soft segments into K layers by their mean features, colour and place."""

from __future__ import annotations

import numpy as np


def segment_descriptors(
    segments: np.ndarray,
    image: np.ndarray,
    features: np.ndarray | None,
    *,
    feature_weight: float = 1.0,
    color_weight: float = 1.0,
    position_weight: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Alpha-weighted mean descriptor and area of each segment.

    Parameters
    ----------
    segments : (N, c) float64 soft segments >= 0 over the N = h w working pixels.
    image : (h, w, 3) float32 in [0, 1], RGB.
    features : (h, w, F) float32 in [0, 1] semantic features, or None.

    Returns
    -------
    descriptors : (c, D) float64 (features × feature_weight, colour × color_weight, normalised position × position_weight).
    areas : (c,) float64, the segments' total alpha.
    """
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    parts = [image.reshape(-1, 3) * color_weight, np.stack([yy.ravel() / h, xx.ravel() / w], 1) * position_weight]
    if features is not None:
        parts.insert(0, features.reshape(h * w, -1) * feature_weight)
    columns = np.concatenate(parts, axis=1).astype(np.float64)
    areas = segments.sum(axis=0)
    return (segments.T @ columns) / np.maximum(areas, 1e-12)[:, None], areas


def ward_groups(descriptors: np.ndarray, areas: np.ndarray, count: int) -> np.ndarray:
    """Agglomerate segments into ``count`` groups by Ward's criterion (area-weighted).

    Repeatedly merges the pair whose merge adds the least within-group variance,
    (a_i a_j / (a_i + a_j)) |d_i - d_j|², so large coherent regions stay whole and
    small fragments join their most similar neighbour. Deterministic.

    Returns
    -------
    labels : (c,) int64 group of each segment in [0, min(count, c)).
    """
    c = len(areas)
    labels = np.arange(c)
    means = descriptors.astype(np.float64).copy()
    weight = np.maximum(areas.astype(np.float64), 1e-12)
    alive = list(range(c))
    while len(alive) > count:
        best, pair = np.inf, (alive[0], alive[1])
        for ai, i in enumerate(alive):
            for j in alive[ai + 1 :]:
                cost = weight[i] * weight[j] / (weight[i] + weight[j]) * float(((means[i] - means[j]) ** 2).sum())
                if cost < best:
                    best, pair = cost, (i, j)
        i, j = pair
        means[i] = (weight[i] * means[i] + weight[j] * means[j]) / (weight[i] + weight[j])
        weight[i] += weight[j]
        labels[labels == j] = i
        alive.remove(j)
    return np.unique(labels, return_inverse=True)[1]


def group_segments(segments: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Sum segments per group into ``count`` layers, largest area first.

    Parameters
    ----------
    segments : (N, c) float64 soft segments; labels : (c,) group per segment.

    Returns
    -------
    layers : (count, N) float64, >= 0, summing to 1 per pixel; groups beyond
        the number of labels are empty (all zero).
    """
    n = segments.shape[0]
    layers = np.zeros((count, n))
    for g in range(labels.max() + 1):
        layers[g] = segments[:, labels == g].sum(axis=1)
    np.clip(layers, 0.0, None, out=layers)
    normalise(layers)
    order = np.argsort(-layers.sum(axis=1), kind="stable")
    return layers[order]


def normalise(layers: np.ndarray) -> None:
    """Make (K, ...) non-negative layers sum to 1 over K in place; where all are 0, the first layer takes 1."""
    total = layers.sum(axis=0)
    empty = total <= 1e-12
    layers /= np.where(empty, 1.0, total)
    if empty.any():
        layers[0][empty] = 1.0
