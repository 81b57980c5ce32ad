"""Information-flow matting (Aksoy, Aydin, Pollefeys, CVPR 2017), the ``best`` trimap solver.

Alpha in the trimap's unknown region U minimises one quadratic energy built
from four kinds of pixel-to-pixel information flow:

- colour-mixture flow: every unknown pixel is written as an affine mix of its
  K nearest neighbours in (r, g, b, x, y) space, with LLE weights computed
  from colours only; the energy is ``sum_p (alpha_p - sum_q w_pq alpha_q)^2``;
- local flow: the closed-form matting Laplacian (pymatting's ``cf_laplacian``);
- intra-unknown flow: KNN-matting affinities between similar unknown pixels;
- known-to-unknown flow: each unknown pixel is mixed from K foreground and K
  background neighbours; the foreground share is a prior on alpha, weighted
  by how distinct the mixed foreground and background colours are. Where
  edge-based trimming finds a near, same-coloured known pixel, the prior is
  that pixel's label with full confidence. (The paper switches this flow off
  for highly transparent subjects by a histogram test; on the alphamatting
  training images that test only cost accuracy, so it is not used.)

Known pixels are hard boundary conditions: the system is solved on U only,
with conjugate gradients preconditioned by pymatting's incomplete Cholesky.
A mild final contrast stretch snaps near-0 and near-1 values.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse

from core.alpha._solve import solve_spd
from core.alpha.edge_trimming import edge_trim_labels
from core.alpha._inputs import (
    check_image,
    check_positive,
    check_trimap,
    degenerate_alpha,
    split_trimap,
    unknown_window,
)
from core.errors import ParameterError, SolverError

logger = logging.getLogger(__name__)

WEIGHT_FLOOR = 1e-2
"""The least data-term weight of an unknown pixel when the system without it does not converge
(one fiftieth of the known-to-unknown flow's full weight)."""

PRECONDITIONER_DISCARD = 3e-2
"""Entries below this in the incomplete Cholesky factor are dropped (pymatting's ``discard_threshold``).
The preconditioner includes the colour-mixture term A^T A in full; measured on the README's sample,
alphamatting, ECSSD and Composition-1k photos against 1e-2 and 1e-1 (docs/benchmarks.md)."""

_LLE_CHUNK = 1 << 16  # pixels per batch of LLE solves (bounds temporary memory)


def estimate_alpha_info_flow(
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    cm_neighbors: int = 10,
    local_epsilon: float = 1e-6,
    uu_weight: float = 0.01,
    ku_weight: float = 0.05,
    edge_trim: bool = True,
    stretch: float = 0.02,
    rtol: float = 1e-4,
    maxiter: int = 2000,
    crop_margin: float = 0.03,
    prior: tuple[np.ndarray, np.ndarray] | None = None,
    guide: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Estimate alpha from an image and a trimap with information-flow matting.

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB
    trimap : (H, W) uint8; 0 = background, 255 = foreground, any other value = unknown.
    cm_neighbors : int
        Neighbours per unknown pixel in the colour-mixture flow.
    local_epsilon : float
        Covariance regularisation of the local (closed-form) matting Laplacian.
    uu_weight : float
        Weight of the intra-unknown flow (0 disables it).
    ku_weight : float
        Weight of the known-to-unknown flow (0 disables it).
    edge_trim : bool
        Replace the known-to-unknown prior by a confident 0 or 1 where the
        unknown pixel matches a nearby known pixel's colour (edge-based
        trimming, :func:`core.alpha.edge_trimming.edge_trim_labels`).
    stretch : float in [0, 0.5)
        Final contrast stretch ``clip((alpha - s) / (1 - 2 s), 0, 1)``: solved
        values within ``s`` of 0 or 1 snap to it (0 disables).
    rtol : float
        Relative residual at which conjugate gradients stops.
    maxiter : int
        Iteration cap for conjugate gradients.
    crop_margin : float
        The system is built only over the unknown pixels' bounding box grown by
        this fraction of the image's long side (at least 16 px): pixels farther
        away barely take part, and building over the whole image costs time and
        memory in proportion to its size.
    prior : (alpha (H, W) float in [0, 1], weight (H, W) float ≥ 0) or None
        An outside estimate of alpha per pixel (e.g. from a known background).
        Where its weight is above 0 it replaces the known-to-unknown prior and
        its weight (``ku_weight · confidence``), and edge trimming is skipped.
    guide : (alpha (H, W) float in [0, 1], weight (H, W) float ≥ 0) or None
        A second outside estimate (e.g. the model's own soft matte) that is *added*
        to the priors above rather than replacing them: each unknown pixel's data
        term becomes ``w_k (α − g_k)² + w_g (α − g)²``. Where colour separates
        foreground from background the colour flows and the known-to-unknown prior
        decide; where it cannot, the guide wins.

    Returns
    -------
    alpha : (H, W) float32 in [0, 1]; known pixels are exactly 0 or 1.
        A trimap with only one known label yields that label everywhere (the
        minimiser of every flow term); one with no known pixels raises
        ``ParameterError``.
    """
    check_image(image)
    check_trimap(trimap, image.shape[:2])
    check_positive(cm_neighbors, "cm_neighbors", integer=True)
    check_positive(local_epsilon, "local_epsilon")
    check_positive(uu_weight, "uu_weight", allow_zero=True)
    check_positive(ku_weight, "ku_weight", allow_zero=True)
    check_positive(rtol, "rtol")
    check_positive(maxiter, "maxiter", integer=True)
    check_positive(stretch, "stretch", allow_zero=True)
    if stretch >= 0.5:
        raise ParameterError(f"stretch must be in [0, 0.5); got {stretch!r}")
    if not isinstance(edge_trim, (bool, np.bool_)):
        raise ParameterError(f"edge_trim must be a bool; got {edge_trim!r}")
    for label, given_estimate in (("prior", prior), ("guide", guide)):
        if given_estimate is not None and (
            len(given_estimate) != 2 or any(np.shape(p) != trimap.shape for p in given_estimate)
        ):
            raise ParameterError(f"{label} must be (alpha, weight), each of the trimap's shape {trimap.shape}")

    regions = split_trimap(trimap)
    trivial = degenerate_alpha(regions)
    if trivial is not None:
        return trivial
    window = unknown_window(regions, margin=max(16, round(crop_margin * max(trimap.shape))))
    if window is not None:
        alpha = regions.fg.astype(np.float32)
        alpha[window] = estimate_alpha_info_flow(
            image[window],
            trimap[window],
            cm_neighbors=cm_neighbors,
            local_epsilon=local_epsilon,
            uu_weight=uu_weight,
            ku_weight=ku_weight,
            edge_trim=edge_trim,
            stretch=stretch,
            rtol=rtol,
            maxiter=maxiter,
            crop_margin=crop_margin,
            prior=None if prior is None else (prior[0][window], prior[1][window]),
            guide=None if guide is None else (guide[0][window], guide[1][window]),
        )
        return alpha

    h, w = trimap.shape
    n = h * w
    colors = image.reshape(n, 3).astype(np.float32)
    unknown = regions.unknown.ravel()
    fg = regions.fg.ravel()
    bg = regions.bg.ravel()
    u_idx = np.flatnonzero(unknown)
    n_u = u_idx.size
    # Global pixel index -> row of the unknown system (-1 for known pixels).
    local = np.full(n, -1, dtype=np.int64)
    local[u_idx] = np.arange(n_u)
    alpha_known = fg.astype(np.float64)

    # Colour-mixture flow: energy |A x + c|^2 over the unknown rows, A^T A x + A^T c in the system.
    mix, mix_c = _color_mixture_rows(colors, h, w, u_idx, local, alpha_known, cm_neighbors)
    mix_t = mix.T.tocsr()
    rhs = -(mix_t @ mix_c)

    # Local flow: matting Laplacian rows of the unknown pixels (windows that
    # touch U only), known columns moved to the right-hand side.
    from pymatting.laplacian.cf_laplacian import cf_laplacian  # here: pymatting's import costs 0.7 s (numba)

    lap = cf_laplacian(image.astype(np.float64), epsilon=local_epsilon, radius=1, is_known=~regions.unknown)
    lap_rows = lap[unknown]
    del lap
    sparse_part = lap_rows[:, unknown]
    rhs -= lap_rows[:, ~unknown] @ alpha_known[~unknown]
    del lap_rows

    if uu_weight > 0 and n_u > 1:
        sparse_part = sparse_part + uu_weight * _intra_unknown_laplacian(colors, h, w, u_idx)

    guess, weight = np.zeros(n_u), np.zeros(n_u)
    # Rows where the caller's prior has weight take it over the known-to-unknown one,
    # so that one (each row independent of the others) is computed for the rest only.
    given = np.zeros(n_u, dtype=bool) if prior is None else prior[1].ravel()[u_idx] > 0
    if ku_weight > 0:
        confidence = np.zeros(n_u)
        rest = ~given
        if rest.any():
            guess[rest], confidence[rest] = _known_to_unknown_prior(colors, h, w, u_idx[rest], fg, bg)
        if edge_trim:
            labels = edge_trim_labels(image, trimap).ravel()[u_idx]
            trimmed = (labels >= 0) & rest
            guess[trimmed] = labels[trimmed]
            confidence[trimmed] = 1.0
        weight = ku_weight * confidence
    if prior is not None:
        guess[given] = np.clip(prior[0].ravel()[u_idx][given], 0.0, 1.0)
        weight[given] = prior[1].ravel()[u_idx][given]
    if guide is not None:
        guide_weight = np.maximum(np.asarray(guide[1], np.float64).ravel()[u_idx], 0.0)
        guide_alpha = np.clip(np.asarray(guide[0], np.float64).ravel()[u_idx], 0.0, 1.0)
        total = weight + guide_weight
        guess = np.divide(weight * guess + guide_weight * guide_alpha, total, out=guess.copy(), where=total > 0)
        weight = total
    flows = (sparse_part + mix_t @ mix).tocsr()  # every flow, A^T A formed
    del mix, mix_t, sparse_part

    def solve(weight: np.ndarray) -> np.ndarray:
        """The system with data term ``weight`` (n_u,) pulling each unknown pixel to ``guess``."""
        system = (flows + scipy.sparse.diags(weight)).tocsr() if weight.any() else flows
        # Preconditioned by the incomplete Cholesky factor of the whole system. With only A^T A's
        # diagonal in the preconditioner, hair (unknown pixels mixed from each other) took conjugate
        # gradients 500-1,750 iterations against 20-60 on photos; with all of it, 6-26.
        return solve_spd(system, rhs + weight * guess, preconditioner_of=system,
                         x0=guess if weight.any() else None, discard_threshold=PRECONDITIONER_DISCARD,
                         rtol=rtol, maxiter=maxiter)

    logger.debug("info-flow: %d unknown pixels", n_u)
    try:
        x = solve(weight)
    except SolverError:
        # Unknown pixels that no flow ties to a known one and no prior holds (strands grown far
        # from the subject, with the guide dropped there) leave the system nearly singular: a
        # small pull towards the priors' guess everywhere makes it solvable.
        logger.info("info-flow: no convergence over %d unknown pixels; solving again with a floor of %g on "
                    "the data term", n_u, WEIGHT_FLOOR)
        x = solve(np.maximum(weight, WEIGHT_FLOOR))

    if stretch > 0:
        x = (x - stretch) / (1.0 - 2.0 * stretch)
    alpha = fg.astype(np.float32)
    alpha[u_idx] = np.clip(x, 0.0, 1.0)
    return alpha.reshape(h, w)


def _features(colors: np.ndarray, h: int, w: int, xy_weight: float, idx: np.ndarray) -> np.ndarray:
    """(len(idx), 5) float32 features [r, g, b, xy_weight * x / w, xy_weight * y / h]."""
    y, x = np.divmod(idx, w)
    out = np.empty((idx.size, 5), dtype=np.float32)
    out[:, :3] = colors[idx]
    out[:, 3] = x * (xy_weight / w)
    out[:, 4] = y * (xy_weight / h)
    return out


def _knn(data: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Indices (len(query), k) of the k nearest rows of ``data`` for each query row."""
    k = min(k, data.shape[0])
    from pymatting.util.kdtree import KDTree

    _, ind = KDTree(data).query(query, k)
    return ind.reshape(query.shape[0], k)


def _lle_weights(centers: np.ndarray, neighbors: np.ndarray, reg: float) -> np.ndarray:
    """Affine LLE weights reconstructing each centre colour from its neighbours.

    ``centers`` is (n, 3), ``neighbors`` (n, k, 3); returns (n, k) float64 whose
    rows sum to 1, minimising ``|c - sum_j w_j n_j|^2 + reg |w|^2``. With
    ``Z = N - c`` the k x k Gram system is solved through its 3 x 3 Woodbury
    form: ``w ~ 1 - Z (reg I + Z^T Z)^{-1} Z^T 1``.
    """
    n, k, d = neighbors.shape
    out = np.empty((n, k), dtype=np.float64)
    eye = reg * np.eye(d)
    for start in range(0, n, _LLE_CHUNK):
        stop = min(start + _LLE_CHUNK, n)
        z = neighbors[start:stop].astype(np.float64) - centers[start:stop, None, :].astype(np.float64)
        gram = np.einsum("nki,nkj->nij", z, z) + eye
        v = np.linalg.solve(gram, z.sum(axis=1)[:, :, None])[:, :, 0]
        wts = 1.0 - np.einsum("nkd,nd->nk", z, v)
        out[start:stop] = wts / wts.sum(axis=1, keepdims=True)
    return out


def _color_mixture_rows(
    colors: np.ndarray,
    h: int,
    w: int,
    u_idx: np.ndarray,
    local: np.ndarray,
    alpha_known: np.ndarray,
    k: int,
) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """Rows ``alpha_p - sum_q w_pq alpha_q`` for p in U, split into unknown and known parts.

    Returns ``(A, c)``: A is (|U|, |U|) sparse acting on the unknown alphas, c is
    (|U|,) the contribution of known neighbours.
    """
    n_u = u_idx.size
    all_idx = np.arange(h * w)
    feats = _features(colors, h, w, 1.0, all_idx)
    neigh = _knn(feats, feats[u_idx], k + 1)
    # Drop each query's own pixel (features are distinct, so it comes first;
    # mask it wherever it appears to be safe), keeping k neighbours.
    self_hit = neigh == u_idx[:, None]
    keep = ~self_hit
    keep[~self_hit.any(axis=1), -1] = False
    neigh = neigh[keep].reshape(n_u, -1)
    wts = _lle_weights(colors[u_idx], colors[neigh], 1e-10)

    col_local = local[neigh]
    is_unknown_col = col_local >= 0
    rows = np.repeat(np.arange(n_u), neigh.shape[1])
    mask = is_unknown_col.ravel()
    a = scipy.sparse.csr_matrix(
        (-wts.ravel()[mask], (rows[mask], col_local.ravel()[mask])), shape=(n_u, n_u)
    )
    a = (a + scipy.sparse.identity(n_u, format="csr")).tocsr()
    c = -(np.where(is_unknown_col, 0.0, wts * alpha_known[neigh])).sum(axis=1)
    return a, c


def _intra_unknown_laplacian(colors: np.ndarray, h: int, w: int, u_idx: np.ndarray) -> scipy.sparse.csr_matrix:
    """KNN-matting Laplacian among unknown pixels: 5 near-in-space and 1 far colour neighbour."""
    n_u = u_idx.size
    rows, cols = [], []
    for k, xy_weight in ((5, 0.05), (1, 0.0005)):
        feats = _features(colors, h, w, xy_weight, u_idx)
        neigh = _knn(feats, feats, k + 1)[:, 1:]
        rows.append(np.repeat(np.arange(n_u), neigh.shape[1]))
        cols.append(neigh.ravel())
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    cu = colors[u_idx]
    vals = np.maximum(1.0 - np.abs(cu[rows] - cu[cols]).sum(axis=1) / 5.0, 0.0).astype(np.float64)
    aff = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(n_u, n_u))
    aff = (aff + aff.T) * 0.5
    return (scipy.sparse.diags(np.asarray(aff.sum(axis=1)).ravel()) - aff).tocsr()


def _known_to_unknown_prior(
    colors: np.ndarray, h: int, w: int, u_idx: np.ndarray, fg: np.ndarray, bg: np.ndarray, k: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """Per unknown pixel: foreground share of an LLE mix of k fg + k bg neighbours, and its confidence.

    Confidence is ``|F - B|^2 / 3`` with F and B the mixed foreground and
    background colours: a mix of near-identical colours says little about alpha.
    """
    xy_weight = 10.0
    query = _features(colors, h, w, xy_weight, u_idx)
    parts = []
    for known in (fg, bg):
        k_idx = np.flatnonzero(known)
        parts.append(k_idx[_knn(_features(colors, h, w, xy_weight, k_idx), query, k)])
    kf = parts[0].shape[1]
    neigh = np.concatenate(parts, axis=1)
    wts = _lle_weights(colors[u_idx], colors[neigh], 1e-10)
    mixed = wts[:, :, None] * colors[neigh]
    f_col = mixed[:, :kf].sum(axis=1)
    b_col = mixed[:, kf:].sum(axis=1)
    prior = np.clip(wts[:, :kf].sum(axis=1), 0.0, 1.0)
    confidence = ((f_col - b_col) ** 2).sum(axis=1) / 3.0
    return prior, confidence
