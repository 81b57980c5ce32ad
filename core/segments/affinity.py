"""The soft-segmentation Laplacian: matting affinity + semantic + non-local colour terms.

L = L_matting + w_s L_semantic + w_c L_colour (Aksoy et al. 2018, eq. 6). The two
superpixel terms join the superpixels' centroid pixels: semantic between adjacent
superpixels, erf(20 (1 - |f_s - f_t| - 0.85)) in [-1, 1] (dissimilar features
repel); colour between superpixels whose centres lie within 0.2 of the image
size, (erf(50 (1 - |c_s - c_t| - 0.95)) + 1) / 2 in [0, 1]. Every row of L sums
to zero, so the constant vector stays in its null space.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import erf

from core.segments.superpixels import Superpixels

_Edges = tuple[np.ndarray, np.ndarray, np.ndarray]
"""One triangle of a symmetric pixel affinity: (rows, cols, weights), flat pixel indices."""


def segmentation_laplacian(
    image: np.ndarray,
    superpixels: Superpixels,
    features: np.ndarray | None,
    *,
    matting_epsilon: float = 1e-7,
    semantic_weight: float = 0.01,
    color_weight: float = 0.01,
) -> sp.csc_matrix:
    """The (h w, h w) float64 Laplacian of the working image.

    Parameters
    ----------
    image : (h, w, 3) float32 in [0, 1], RGB.
    superpixels : of the same image.
    features : (h, w, 3) float32 in [0, 1] reduced semantic features, or None (no semantic term).
    """
    n = image.shape[0] * image.shape[1]
    from pymatting import cf_laplacian  # here: pymatting's import costs 0.7 s (numba)

    lap = cf_laplacian(image.astype(np.float64), epsilon=matting_epsilon, radius=1)
    if color_weight > 0 and superpixels.count > 1:
        lap = lap + color_weight * _laplacian(_colour_affinity(image, superpixels), n)
    if features is not None and semantic_weight > 0 and len(superpixels.pairs):
        lap = lap + semantic_weight * _laplacian(_semantic_affinity(features, superpixels), n)
    return sp.csc_matrix(lap)


def _semantic_affinity(features: np.ndarray, spx: Superpixels) -> _Edges:
    means = spx.means(features)
    i, j = spx.pairs[:, 0], spx.pairs[:, 1]
    dist = np.linalg.norm(means[i] - means[j], axis=1)
    return _pixel_affinity(spx, i, j, erf(20.0 * (1.0 - dist - 0.85)))


def _colour_affinity(image: np.ndarray, spx: Superpixels) -> _Edges:
    means = spx.means(image)
    centres = spx.normalised_centres()
    i, j = np.triu_indices(spx.count, k=1)
    near = np.hypot(*(centres[i] - centres[j]).T) <= 0.2
    i, j = i[near], j[near]
    dist = np.linalg.norm(means[i] - means[j], axis=1)
    weight = (erf(50.0 * (1.0 - dist - 0.95)) + 1.0) / 2.0
    keep = weight > 1e-6
    return _pixel_affinity(spx, i[keep], j[keep], weight[keep])


def _pixel_affinity(spx: Superpixels, i: np.ndarray, j: np.ndarray, weight: np.ndarray) -> _Edges:
    """Superpixel pairs (i, j) with their weights → the same edges between their centroid pixels."""
    return spx.centroids[i], spx.centroids[j], weight


def _laplacian(edges: _Edges, n: int) -> sp.csr_matrix:
    """D - W for the symmetric affinity W given as (rows, cols, weights) of one triangle."""
    rows, cols, weight = edges
    w = sp.coo_matrix((weight, (rows, cols)), shape=(n, n)).tocsr()
    w = w + w.T
    return sp.diags(np.asarray(w.sum(axis=1)).ravel()) - w
