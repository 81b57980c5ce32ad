"""Fast trimap matting by colour projection.

For every unknown pixel, local foreground and background colours F and B are
taken as the mean of the nearest known pixels of each kind (a normalised box
blur, widened until known pixels are found), and alpha is the projection of the
pixel's colour on the line between them (the compositing equation
I = αF + (1 − α)B solved in the least-squares sense):

    α = ((I − B) · (F − B)) / |F − B|²

A guided filter then removes pixel noise. Linear time, box filters only: the
``fast`` refiner for user trimaps, where there is no model mask to start from.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.alpha._inputs import check_image, check_trimap, degenerate_alpha, split_trimap
from core.alpha.guided_filter import guided_filter

_TINY = np.float32(1e-6)


def _local_mean_colour(image: np.ndarray, known: np.ndarray, radius: int, *, levels: int = 8) -> np.ndarray:
    """Mean colour of the known pixels near each pixel, from radius r, 2r, 4r, … until some are found.

    image: (H, W, 3) float32; known: (H, W) bool. Returns (H, W, 3) float32.
    """
    weight = known.astype(np.float32)
    weighted = image * weight[:, :, None]
    out = np.zeros_like(image)
    filled = np.zeros(known.shape, bool)
    r = radius
    for _ in range(levels):
        size = (2 * r + 1, 2 * r + 1)
        w = cv2.boxFilter(weight, -1, size, normalize=True, borderType=cv2.BORDER_REFLECT)
        s = cv2.boxFilter(weighted, -1, size, normalize=True, borderType=cv2.BORDER_REFLECT)
        todo = ~filled & (w > 1e-4)
        out[todo] = s[todo] / w[todo][:, None]
        filled |= todo
        if filled.all():
            break
        r *= 2
    if not filled.all():
        fallback = image[known].mean(axis=0) if known.any() else np.full(3, 0.5, np.float32)
        out[~filled] = fallback
    return out


def estimate_alpha_projection(
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    radius: int = 8,
    smooth_radius: int = 2,
    smooth_eps: float = 1e-3,
) -> np.ndarray:
    """Alpha from a trimap by projecting colours between local F and B estimates.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    trimap: (H, W) uint8, 0 background, 255 foreground, anything else unknown.
        A trimap with only one known label gives that label everywhere; one with
        no known pixel raises ParameterError.
    radius: px, smallest neighbourhood searched for known colours.
    smooth_radius, smooth_eps: the guided filter applied to the result (radius 0: none).

    Returns
    -------
    alpha: (H, W) float32 in [0, 1]; known pixels exactly 0 or 1.
    """
    check_image(image)
    check_trimap(trimap, image.shape[:2])
    regions = split_trimap(trimap)
    trivial = degenerate_alpha(regions)
    if trivial is not None:
        return trivial
    fg, bg = regions.fg, regions.bg
    F = _local_mean_colour(image, fg, radius)
    B = _local_mean_colour(image, bg, radius)
    FB = F - B
    alpha = np.einsum("ijk,ijk->ij", image - B, FB) / (np.einsum("ijk,ijk->ij", FB, FB) + _TINY)
    alpha = np.clip(alpha, 0.0, 1.0).astype(np.float32)
    alpha[fg], alpha[bg] = 1.0, 0.0
    if smooth_radius > 0:
        alpha = np.clip(guided_filter(image, alpha, radius=smooth_radius, eps=smooth_eps), 0.0, 1.0)
        alpha[fg], alpha[bg] = 1.0, 0.0
    return alpha
