"""Alpha from an image, its aligned clean plate and the model's coarse mask.

With the background B known at each pixel, the matting equation
I = αF + (1 − α)B leaves only F unknown, so:

- the trimap comes from where the image differs from the plate (what changed is
  the subject), with the model's mask filling holes where the subject happens to
  match the background, and taking over where the plate does not reach;
- each unknown pixel gets an alpha estimate by projecting I − B onto F − B, with F
  the nearby foreground colour that best explains the pixel; its weight grows with
  |F − B| (a colour like the background's says little) and falls with the
  residual. That estimate replaces information-flow matting's known-to-unknown
  prior in the solver (:func:`core.alpha.info_flow.estimate_alpha_info_flow`).
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.ndimage
from scipy.spatial import cKDTree

from core.plate.align import blurred_distance, change_threshold

PRIOR_WEIGHT = 1.0
"""Weight of the plate's alpha estimate in the solver, at full confidence
(information flow's own known-to-unknown prior has 0.05)."""

CANDIDATES = 24
"""Foreground colours tried per unknown pixel."""


def _disk(radius: int) -> np.ndarray:
    r = max(1, int(radius))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def changed_region(image: np.ndarray, background: np.ndarray, valid: np.ndarray, noise: float) -> np.ndarray:
    """Pixels where the image clearly differs from the plate, (h, w) bool: their
    :func:`core.plate.align.blurred_distance` is over :func:`core.plate.align.change_threshold`.

    image, background: (h, w, 3) float32 in [0, 1]; valid: (h, w) bool; noise: the median
    blurred distance between them on the background. Specks are opened away.
    """
    changed = (blurred_distance(image, background) > change_threshold(noise)) & valid
    return cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_OPEN, _disk(1)) > 0


def plate_trimap(changed: np.ndarray, valid: np.ndarray, coarse: np.ndarray, band_px: float) -> np.ndarray:
    """Trimap from what changed, the model's mask where the plate says nothing.

    changed, valid: (h, w) bool; coarse: (h, w) float32 in [0, 1], the model's mask;
    band_px: half-width of the unknown band in pixels.

    The subject is what changed, plus the model's subject where the plate does not
    reach; its inside (eroded by the band) is foreground, and what lies farther than
    the band from it is background. Holes in it that the model calls subject stay
    unknown: they are either background seen through the subject (hair) or subject
    coloured like the background behind it, and only the solver can tell.
    Returns (h, w) uint8 in {0, 128, 255}.
    """
    model = coarse > 0.5
    subject = changed | (model & ~valid)
    holes = scipy.ndimage.binary_fill_holes(subject) & ~subject & model
    band = max(2, round(band_px))
    fg = cv2.erode(subject.astype(np.uint8), _disk(band)) > 0
    near = cv2.dilate((subject | holes).astype(np.uint8), _disk(band)) > 0
    trimap = np.full(changed.shape, 128, np.uint8)
    trimap[~near] = 0
    trimap[fg] = 255
    return trimap


def plate_prior(image: np.ndarray, background: np.ndarray, valid: np.ndarray, trimap: np.ndarray,
                noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Alpha estimates of the trimap's unknown pixels from the known background.

    image, background: (h, w, 3) float32 in [0, 1]; valid: (h, w) bool; trimap: (h, w)
    uint8; noise: median background colour distance.

    For each unknown pixel, the ``CANDIDATES`` nearest foreground edge pixels give
    colours F; each gives α = (I − B)·(F − B) / |F − B|², and the one whose mix
    αF + (1 − α)B comes closest to I wins.

    Returns (alpha (h, w) float32 in [0, 1], weight (h, w) float32 ≥ 0; 0 where there is
    no estimate: known pixels, pixels the plate does not cover).
    """
    h, w = trimap.shape
    prior = np.zeros((h, w), np.float32)
    weights = np.zeros((h, w), np.float32)
    fg = trimap == 255
    unknown = (trimap != 0) & ~fg & valid
    edge = fg & ~(cv2.erode(fg.astype(np.uint8), _disk(1)) > 0)
    if not unknown.any() or not edge.any():
        return prior, weights
    ey, ex = np.nonzero(edge)
    uy, ux = np.nonzero(unknown)
    k = min(CANDIDATES, ey.size)
    _, nearest = cKDTree(np.column_stack([ey, ex])).query(np.column_stack([uy, ux]), k=k)
    nearest = nearest.reshape(len(uy), k)
    colours_f = image[ey[nearest], ex[nearest]]                      # (n, k, 3)
    pixel = image[uy, ux][:, None, :]                                # (n, 1, 3)
    back = background[uy, ux][:, None, :]
    spread = colours_f - back
    spread_sq = np.einsum("nkc,nkc->nk", spread, spread)
    alphas = np.clip(np.einsum("nkc,nkc->nk", pixel - back, spread) / (spread_sq + 1e-6), 0.0, 1.0)
    residual = pixel - back - alphas[:, :, None] * spread
    residual_sq = np.einsum("nkc,nkc->nk", residual, residual)
    best = np.argmin(residual_sq, axis=1)
    rows = np.arange(len(uy))
    alpha = alphas[rows, best]
    contrast = spread_sq[rows, best]
    fit = residual_sq[rows, best]
    noise_sq = max(noise, 0.005) ** 2
    confidence = np.minimum(contrast / 0.04, 1.0) * np.exp(-fit / (8.0 * noise_sq))
    prior[uy, ux] = alpha
    weights[uy, ux] = PRIOR_WEIGHT * confidence
    return prior, weights
