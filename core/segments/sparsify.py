"""Sparse soft segments spanned by the Laplacian's eigenvectors (spectral matting).

Each segment is a combination of the eigenvectors, a_k = E y_k, and the energy

    sum_k  y_kᵀ Λ y_k  +  sum_k,p |a_kp|^γ + |1 - a_kp|^γ  +  δ |sum_k a_k - 1|²

(smoothness, sparsity prior, sum-to-one as a soft constraint), started from the
k-means segments, is minimised by iteratively reweighted least squares, as in
Levin et al.'s spectral matting and Aksoy et al.'s relaxed sparsification. In
the eigenvector basis every reweighted step is K small (m × m) systems coupled
only through the sum Σ y_k, solved exactly with one more m × m system, so an
iteration costs K products Eᵀ diag(w) E instead of a K·N-unknown sparse solve.
"""

from __future__ import annotations

import cv2
import numpy as np

_DELTA = 100.0  # sum-to-one weight (relaxed sparsification's δ)
_FLOOR = 1e-2  # |a| floor in the reweighting, keeps the weights finite


def kmeans_segments(vectors: np.ndarray, values: np.ndarray, clusters: int, *, embed: int = 20) -> np.ndarray:
    """Hard initial segments: k-means on the spectral embedding.

    Parameters
    ----------
    vectors : (N, m) float64 eigenvectors, ascending eigenvalues ``values`` (m,).
    clusters : how many segments (fewer when there are fewer distinct points).
    embed : eigenvectors 2..embed+1 are used, each scaled by 1 / sqrt(eigenvalue).

    Returns
    -------
    segments : (N, c) float64 in {0, 1}, one-hot rows, no empty column.
    """
    n, m = vectors.shape
    cols = slice(1, min(m, embed + 1))
    scale = 1.0 / np.sqrt(np.maximum(np.abs(values[cols]), 1e-12))
    points = (vectors[:, cols] * scale).astype(np.float32)
    if points.shape[1] == 0:
        return np.ones((n, 1))
    points /= max(float(np.abs(points).max()), 1e-12)
    distinct = len(np.unique(points[:: max(1, n // 5000)].round(6), axis=0))
    k = max(1, min(clusters, distinct, n))
    if k == 1:
        return np.ones((n, 1))
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-4)
    _, labels, _ = cv2.kmeans(points, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    labels = np.unique(labels.ravel(), return_inverse=True)[1]
    return np.eye(labels.max() + 1)[labels]


def sparsify(
    vectors: np.ndarray,
    values: np.ndarray,
    start: np.ndarray,
    *,
    iterations: int = 20,
    sparsity: float = 0.8,
    sample: int = 12_000,
) -> np.ndarray:
    """Sparse soft segments in the span of ``vectors``.

    Parameters
    ----------
    vectors : (N, m) float64 orthonormal eigenvectors; ``values`` (m,) their eigenvalues.
    start : (N, c) float64 starting segments (e.g. one-hot k-means).
    iterations : reweighting iterations; every quarter of them, segments whose largest
        value stays below 0.1 are dropped.
    sparsity : γ in (0, 1); smaller pushes harder towards 0 and 1.
    sample : the sparsity and fidelity sums run over (at most) this many pixels, a
        fixed random subset scaled up to all N: the reweighted products then
        cost O(sample m²) per segment instead of O(N m²).

    Returns
    -------
    segments : (N, c') float64, roughly in [0, 1] (callers clip), c' <= c.
    """
    n, m = vectors.shape
    picked = np.sort(np.random.default_rng(0).choice(n, sample, replace=False)) if n > sample else np.arange(n)
    basis = vectors[picked]
    gain = n / len(picked)
    lam = np.diag(np.maximum(values, 0.0))
    ones = vectors.T @ np.ones(n)  # the constant in the basis
    current = start[picked]
    cycle = max(1, -(-iterations // 4))
    coeffs = vectors.T @ start
    for it in range(iterations):
        u = np.maximum(np.abs(current), _FLOOR) ** (sparsity - 2.0)
        v = np.maximum(np.abs(1.0 - current), _FLOOR) ** (sparsity - 2.0)
        systems = np.empty((current.shape[1], m, m))
        rights = gain * (basis.T @ v)
        for k in range(current.shape[1]):
            systems[k] = gain * (basis.T @ (basis * (u[:, k] + v[:, k])[:, None])) + lam
        coeffs = _coupled_solve(systems, rights, ones)
        current = basis @ coeffs
        if (it + 1) % cycle == 0 and current.shape[1] > 1:
            keep = np.abs(current).max(axis=0) > 0.1
            if keep.any() and not keep.all():
                current, coeffs = current[:, keep], coeffs[:, keep]
    return vectors @ coeffs


def _coupled_solve(systems: np.ndarray, rights: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """Solve A_k y_k + δ (Σ_j y_j - c) = b_k for all k.

    systems : (K, m, m); rights : (m, K); ones : (m,) the constant's coefficients c.
    With s = Σ y_k: (I + δ M) s = Σ A_k⁻¹ b_k + δ M c, M = Σ A_k⁻¹; then y_k = A_k⁻¹ (b_k - δ (s - c)).
    """
    m = systems.shape[1]
    inv = np.linalg.inv(systems)
    msum = inv.sum(0)
    base = np.einsum("kij,jk->ik", inv, rights)
    s = np.linalg.solve(np.eye(m) + _DELTA * msum, base.sum(1) + _DELTA * msum @ ones)
    return base - _DELTA * np.einsum("kij,j->ik", inv, s - ones)
