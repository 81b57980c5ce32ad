"""Automatic trimaps: from a model's coarse alpha, or from a user's rough mask.

A trimap is ``(H, W) uint8 in {0, 128, 255}``: 0 = known background,
255 = known foreground, 128 = unknown (solved by the refiner).

Both builders keep a pixel *known* only if it lies deep enough inside its class:
its Euclidean distance to the nearest pixel of another class is at least the
band half-width ``r``. Everything else is unknown. So the unknown region is

- every pixel the model is unsure of (``bg_threshold < alpha < fg_threshold``), plus
- a band of half-width ``r`` on either side of every edge between the classes.

Safety rules (the closed-form solver needs at least one known pixel, and a
class that is present in the coarse mask must not vanish from the trimap):

- Erosion never removes a class entirely: if no pixel of a non-empty class is
  ``r`` deep, its deepest pixels (the class's maximal inscribed distance) stay
  known. Thin or small subjects therefore keep a known core.
- If the coarse alpha has no confident pixel at all (everything soft), the two
  classes are re-made by thresholding at 0.5 before the rule above.
- An empty coarse mask gives an all-background trimap and a full one an
  all-foreground trimap: refinement then returns the constant matte, and the
  caller (see ``core.views.CoarseMask.confidence``) reports that the model
  found no subject. The trimap never comes back all-unknown.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from core.errors import ParameterError

FOREGROUND = 255
BACKGROUND = 0
UNKNOWN = 128


def _check_alpha(name: str, alpha: np.ndarray) -> np.ndarray:
    if not isinstance(alpha, np.ndarray):
        raise ParameterError(f"{name} must be a numpy array; got {type(alpha).__name__}")
    if alpha.ndim != 2 or alpha.shape[0] < 1 or alpha.shape[1] < 1:
        raise ParameterError(f"{name} must be a non-empty (H, W) array; got shape {alpha.shape}")
    if alpha.dtype == bool:
        return alpha.astype(np.float32)
    if not (np.issubdtype(alpha.dtype, np.floating) or np.issubdtype(alpha.dtype, np.integer)):
        raise ParameterError(f"{name} must be float in [0, 1] or bool; got dtype {alpha.dtype}")
    if np.issubdtype(alpha.dtype, np.integer):
        raise ParameterError(
            f"{name} must be float in [0, 1] or bool; got integer dtype {alpha.dtype} "
            "(divide 8-bit masks by 255 first)"
        )
    a = alpha.astype(np.float32, copy=False)
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} must be finite; it has NaN or inf values")
    lo, hi = float(a.min()), float(a.max())
    if lo < 0.0 or hi > 1.0:
        raise ParameterError(f"{name} must lie in [0, 1]; got values in [{lo:.3g}, {hi:.3g}]")
    return a


def _deep(mask: np.ndarray, r: float) -> np.ndarray:
    """Pixels of ``mask`` at Euclidean distance >= ``r`` from any non-mask pixel.

    Never empty when ``mask`` is not: the radius is capped at the mask's largest
    inscribed distance. The image frame does not count as a boundary.
    """
    if not mask.any():
        return mask
    if mask.all():
        return mask
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return mask & (dist >= min(r, float(dist.max())))


def _assemble(fg: np.ndarray, bg: np.ndarray, r: float) -> np.ndarray:
    trimap = np.full(fg.shape, UNKNOWN, np.uint8)
    trimap[_deep(bg, r)] = BACKGROUND
    trimap[_deep(fg, r)] = FOREGROUND
    return trimap


def band_radius(shape: tuple[int, int], band: float, *, min_band_px: float = 1.0) -> float:
    """Half-width in pixels of the unknown band for an image of ``shape``.

    ``band * sqrt(H * W)``, at least ``min_band_px``: the band scales with the
    image's linear size, so a trimap looks the same at any resolution.
    """
    h, w = shape
    return max(float(min_band_px), band * math.sqrt(float(h) * float(w)))


def auto_trimap(
    coarse_alpha: np.ndarray,
    *,
    band: float = 0.015,
    fg_threshold: float = 0.95,
    bg_threshold: float = 0.05,
    min_band_px: float = 1.0,
) -> np.ndarray:
    """Trimap from a model's coarse alpha: soft pixels and a band around edges are unknown.

    Parameters
    ----------
    coarse_alpha : (H, W) float in [0, 1] (or bool)
        The model's coarse matte, at image resolution.
    band : float, keyword-only
        Half-width of the unknown band on each side of a foreground/background
        edge, as a fraction of ``sqrt(H * W)`` (0.015 is 10 px at 0.44 MP).
        Widen it for hair and fur, narrow it for hard-edged objects.
    fg_threshold, bg_threshold : float, keyword-only
        Alpha at or above ``fg_threshold`` is confident foreground, at or below
        ``bg_threshold`` confident background; values between are the model's
        uncertainty and always unknown. ``0 <= bg_threshold < fg_threshold <= 1``.
    min_band_px : float, keyword-only
        Lower bound on the band half-width in pixels (small images).

    Returns
    -------
    trimap : (H, W) uint8 in {0, 128, 255}
        0 = background, 128 = unknown, 255 = foreground. It always holds at
        least one known pixel; see the module docstring for the fallbacks on
        empty, full and all-soft coarse masks.

    Raises
    ------
    ParameterError
        On a wrongly shaped or typed ``coarse_alpha``, values outside [0, 1],
        or out-of-range tunables.
    """
    a = _check_alpha("coarse_alpha", coarse_alpha)
    if not (isinstance(band, (int, float)) and 0.0 <= band <= 0.5):
        raise ParameterError(f"band must be a number in [0, 0.5]; got {band!r}")
    if not (isinstance(min_band_px, (int, float)) and min_band_px >= 0):
        raise ParameterError(f"min_band_px must be a number >= 0; got {min_band_px!r}")
    if not (
        isinstance(fg_threshold, (int, float))
        and isinstance(bg_threshold, (int, float))
        and 0.0 <= bg_threshold < fg_threshold <= 1.0
    ):
        raise ParameterError(
            "thresholds must satisfy 0 <= bg_threshold < fg_threshold <= 1; got "
            f"bg_threshold={bg_threshold!r}, fg_threshold={fg_threshold!r}"
        )
    r = band_radius(a.shape, band, min_band_px=min_band_px)
    fg = a >= fg_threshold
    bg = a <= bg_threshold
    if not fg.any() and not bg.any():
        # Everything is soft: no confident pixel at all. Split at 0.5 so the
        # solver still gets known pixels of both kinds where possible.
        fg = a >= 0.5
        bg = ~fg
    return _assemble(fg, bg, r)


def trimap_from_mask(mask: np.ndarray, *, band_px: float = 10.0) -> np.ndarray:
    """Trimap from a user's rough or hard selection: a band around its edge is unknown.

    Parameters
    ----------
    mask : (H, W) bool, or float in [0, 1] (foreground where >= 0.5)
        The rough selection.
    band_px : float, keyword-only
        Half-width in pixels of the unknown band on each side of the
        selection's edge (>= 0). With 0 the trimap is the mask itself.

    Returns
    -------
    trimap : (H, W) uint8 in {0, 128, 255}
        Pixels deeper than ``band_px`` inside the selection are 255, deeper
        than ``band_px`` outside it are 0, the rest 128. A class thinner than
        the band keeps its innermost pixels known; an empty (full) selection
        gives an all-0 (all-255) trimap.

    Raises
    ------
    ParameterError
        On a wrongly shaped or typed ``mask`` or a negative ``band_px``.
    """
    a = _check_alpha("mask", mask)
    if not (isinstance(band_px, (int, float)) and math.isfinite(band_px) and band_px >= 0):
        raise ParameterError(f"band_px must be a finite number >= 0; got {band_px!r}")
    fg = a >= 0.5
    return _assemble(fg, ~fg, float(band_px))
