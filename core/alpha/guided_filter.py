"""Colour-guided filter (He, Sun, Tang, PAMI 2013) and fast guided upsampling, the ``fast`` refiner.

Within every (2r + 1)^2 window the output is an affine function of the guide's
colour, ``q = a . I + b``, fitted to ``src`` by ridge regression (``eps`` is the
ridge); the per-window coefficients are averaged over all windows covering a
pixel. Edges of the guide survive, flat regions are smoothed.

``guided_upsample`` is the "fast guided filter" (He and Sun, 2015): fit a and b
on a low-resolution guide and source, upsample the averaged coefficients
bilinearly and apply them to the full-resolution guide, so the cost at full
resolution is one resize and one affine map per pixel.

Memory: everything is float32, and full-resolution filtering runs in row
strips (with 2r rows of context, so the result equals the whole-image filter),
which keeps temporaries to a few strips' worth.
"""

from __future__ import annotations

import cv2
import numpy as np
from numba import njit

from core.errors import ParameterError

_STRIP_PIXELS = 1 << 20  # pixels per strip of full-resolution work


def guided_filter(guide: np.ndarray, src: np.ndarray, *, radius: int = 8, eps: float = 1e-4) -> np.ndarray:
    """Filter ``src`` edge-aware, guided by the colour image ``guide``.

    Parameters
    ----------
    guide : (H, W, 3) float32 in [0, 1], RGB
    src : (H, W) float32, e.g. a soft mask or alpha in [0, 1].
    radius : int
        Window radius r in pixels (window (2r + 1)^2), >= 1.
    eps : float
        Ridge regularisation, > 0; larger smooths more across weak edges
        (in units of colour variance, so 1e-4 is a 0.01 colour step).

    Returns
    -------
    out : (H, W) float32, not clipped (callers clip alpha to [0, 1]).
    """
    guide, src = _check_pair(guide, src, "guide", "src")
    _check_params(radius, eps)
    h, w = src.shape
    out = np.empty((h, w), dtype=np.float32)
    pad = 2 * radius
    step = max(1, _STRIP_PIXELS // max(w, 1))
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        lo, hi = max(0, y0 - pad), min(h, y1 + pad)
        coef = _mean_coefficients(guide[lo:hi], src[lo:hi], radius, eps)
        _apply(coef[y0 - lo : y1 - lo], guide[y0:y1], out[y0:y1])
    return out


def guided_upsample(
    alpha_low: np.ndarray,
    guide_low: np.ndarray,
    guide_full: np.ndarray,
    *,
    radius: int = 4,
    eps: float = 1e-4,
) -> np.ndarray:
    """Upsample a low-resolution alpha edge-aware to the full-resolution guide.

    Parameters
    ----------
    alpha_low : (h, w) float32 in [0, 1], alpha at low resolution.
    guide_low : (h, w, 3) float32 in [0, 1], RGB, the image resized to (h, w).
    guide_full : (H, W, 3) float32 in [0, 1], RGB, the full-resolution image.
    radius : int
        Window radius at low resolution, >= 1.
    eps : float
        Ridge regularisation, > 0.

    Returns
    -------
    alpha_full : (H, W) float32 in [0, 1].
    """
    guide_low, alpha_low = _check_pair(guide_low, alpha_low, "guide_low", "alpha_low")
    guide_full = _check_guide(guide_full, "guide_full")
    _check_params(radius, eps)
    coef = _mean_coefficients(guide_low, alpha_low, radius, eps)
    h, w = guide_full.shape[:2]
    out = np.empty((h, w), dtype=np.float32)
    # Upsample the coefficients strip by strip with an explicit bilinear map
    # (pixel-centre aligned, as cv2.resize), so no full-size coefficient
    # arrays are ever held.
    lh, lw = coef.shape[:2]
    map_x = ((np.arange(w, dtype=np.float32) + 0.5) * (lw / w) - 0.5).astype(np.float32)
    step = max(1, _STRIP_PIXELS // max(w, 1))
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        map_y = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * (lh / h) - 0.5).astype(np.float32)
        mx = np.broadcast_to(map_x, (y1 - y0, w))
        my = np.broadcast_to(map_y[:, None], (y1 - y0, w))
        coef_up = cv2.remap(coef, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        _apply(coef_up, guide_full[y0:y1], out[y0:y1])
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over the (2r + 1)^2 window, reflecting at the borders."""
    k = 2 * radius + 1
    return cv2.boxFilter(x, -1, (k, k), normalize=True, borderType=cv2.BORDER_REFLECT)


def _mean_coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Window-averaged coefficients (h, w, 4) float32: channels a_r, a_g, a_b, b.

    The 13 window means are taken four channels at a time (cv2's box filter
    is several times cheaper per channel on 4-channel images); the per-pixel
    algebra runs in fused numba loops, so there are no per-operation temporaries.
    """
    h, w = src.shape
    first = np.empty((h, w, 4), dtype=np.float32)
    second = np.empty((h, w, 4), dtype=np.float32)
    third = np.empty((h, w, 4), dtype=np.float32)
    fourth = np.empty((h, w), dtype=np.float32)
    _products(guide, src, first, second, third, fourth)
    first, second, third, fourth = (_box(x, radius) for x in (first, second, third, fourth))
    coef = np.empty((h, w, 4), dtype=np.float32)
    _solve(first, second, third, fourth, np.float32(eps), coef)
    return _box(coef, radius)


@njit(cache=True, nogil=True)
def _products(guide, src, first, second, third, fourth):  # pragma: no cover - numba
    """first = [r, g, b, p], second = [rp, gp, bp, rr], third = [rg, rb, gg, gb], fourth = bb."""
    h, w = src.shape
    for y in range(h):
        for x in range(w):
            r = guide[y, x, 0]
            g = guide[y, x, 1]
            b = guide[y, x, 2]
            p = src[y, x]
            first[y, x, 0] = r
            first[y, x, 1] = g
            first[y, x, 2] = b
            first[y, x, 3] = p
            second[y, x, 0] = r * p
            second[y, x, 1] = g * p
            second[y, x, 2] = b * p
            second[y, x, 3] = r * r
            third[y, x, 0] = r * g
            third[y, x, 1] = r * b
            third[y, x, 2] = g * g
            third[y, x, 3] = g * b
            fourth[y, x] = b * b


@njit(cache=True, nogil=True)
def _solve(first, second, third, fourth, eps, coef):  # pragma: no cover - numba
    """coef = [a_r, a_g, a_b, b] with a = (Sigma + eps I)^-1 cov(I, p), b = mean p - a . mean I."""
    h, w = fourth.shape
    for y in range(h):
        for x in range(w):
            mr = first[y, x, 0]
            mg = first[y, x, 1]
            mb = first[y, x, 2]
            mp = first[y, x, 3]
            cr = second[y, x, 0] - mr * mp
            cg = second[y, x, 1] - mg * mp
            cb = second[y, x, 2] - mb * mp
            rr = second[y, x, 3] - mr * mr + eps
            rg = third[y, x, 0] - mr * mg
            rb = third[y, x, 1] - mr * mb
            gg = third[y, x, 2] - mg * mg + eps
            gb = third[y, x, 3] - mg * mb
            bb = fourth[y, x] - mb * mb + eps
            # Adjugate of the symmetric 3 x 3 covariance.
            i_rr = gg * bb - gb * gb
            i_rg = gb * rb - rg * bb
            i_rb = rg * gb - gg * rb
            i_gg = rr * bb - rb * rb
            i_gb = rb * rg - rr * gb
            i_bb = rr * gg - rg * rg
            inv_det = 1.0 / (rr * i_rr + rg * i_rg + rb * i_rb)
            ar = (i_rr * cr + i_rg * cg + i_rb * cb) * inv_det
            ag = (i_rg * cr + i_gg * cg + i_gb * cb) * inv_det
            ab = (i_rb * cr + i_gb * cg + i_bb * cb) * inv_det
            coef[y, x, 0] = ar
            coef[y, x, 1] = ag
            coef[y, x, 2] = ab
            coef[y, x, 3] = mp - ar * mr - ag * mg - ab * mb


@njit(cache=True, nogil=True)
def _apply(coef, guide, out):  # pragma: no cover - numba
    """out = a . I + b for coef = [a_r, a_g, a_b, b]."""
    h, w = out.shape
    for y in range(h):
        for x in range(w):
            out[y, x] = (
                coef[y, x, 0] * guide[y, x, 0]
                + coef[y, x, 1] * guide[y, x, 1]
                + coef[y, x, 2] * guide[y, x, 2]
                + coef[y, x, 3]
            )


def _check_guide(guide: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(guide, np.ndarray) or guide.ndim != 3 or guide.shape[2] != 3:
        got = getattr(guide, "shape", type(guide).__name__)
        raise ParameterError(f"{name} must be an (H, W, 3) RGB array; got {got}")
    if guide.dtype not in (np.float32, np.float64):
        raise ParameterError(f"{name} must be float32 in [0, 1]; got dtype {guide.dtype}")
    if guide.shape[0] < 1 or guide.shape[1] < 1:
        raise ParameterError(f"{name} must not be empty; got shape {guide.shape}")
    return np.ascontiguousarray(guide, dtype=np.float32)


def _check_pair(guide: np.ndarray, src: np.ndarray, guide_name: str, src_name: str) -> tuple[np.ndarray, np.ndarray]:
    guide = _check_guide(guide, guide_name)
    if not isinstance(src, np.ndarray) or src.ndim != 2:
        got = getattr(src, "shape", type(src).__name__)
        raise ParameterError(f"{src_name} must be an (H, W) array; got {got}")
    if src.shape != guide.shape[:2]:
        raise ParameterError(f"{src_name} shape {src.shape} does not match {guide_name}'s {guide.shape[:2]}")
    if not np.issubdtype(src.dtype, np.floating):
        raise ParameterError(f"{src_name} must be float32; got dtype {src.dtype}")
    return guide, np.ascontiguousarray(src, dtype=np.float32)


def _check_params(radius: int, eps: float) -> None:
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 1:
        raise ParameterError(f"radius must be an integer >= 1; got {radius!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not np.isfinite(eps) or eps <= 0:
        raise ParameterError(f"eps must be a finite number > 0; got {eps!r}")
