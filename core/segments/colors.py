"""Each layer's decontaminated colours: local layer-weighted means projected onto the image.

F̄_k = box(α_k I) / box(α_k) is the colour of layer k around a pixel (computed
at a bounded resolution: it is smooth). The residual r = I - Σ_k α_k F̄_k is
then shared among the layers in proportion to their alpha,

    F_k = F̄_k + α_k r / Σ_j α_j²,

the smallest change (in the alpha-weighted sense) for which Σ_k α_k F_k = I,
before clipping to [0, 1]. Where a layer is pure (α_k = 1) its colour is the
image's. The same idea as blur fusion (core.foreground.blur_fusion) for K layers.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.subject.working import resize_image, working_size

_EPS = np.float32(1e-4)  # where a layer is absent nearby, F̄ falls back to the local image mean
_STRIP_PIXELS = 1 << 19


def layer_colors(image: np.ndarray, alphas: np.ndarray, *, radius: float = 0.01, max_pixels: int = 1_000_000) -> np.ndarray:
    """Per-layer colours.

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB.
    alphas : (K, H, W) float32, >= 0, summing to 1 over K.
    radius : box radius of the local means, as a fraction of the long side (>= 1 px).
    max_pixels : the local means are computed at (at most) this many pixels.

    Returns
    -------
    colors : (K, H, W, 3) float32 in [0, 1], RGB.
    """
    k = alphas.shape[0]
    h, w = image.shape[:2]
    small = working_size(image.shape, max_pixels)
    image_s = resize_image(image, small)
    box = 2 * max(1, round(radius * max(small))) + 1
    mean_i = cv2.boxFilter(image_s, -1, (box, box), borderType=cv2.BORDER_REFLECT)
    colors = np.empty((k, h, w, 3), np.float32)
    for i in range(k):
        a = resize_image(alphas[i], small)
        mean_a = cv2.boxFilter(a, -1, (box, box), borderType=cv2.BORDER_REFLECT)[..., None]
        mean_ai = cv2.boxFilter(image_s * a[..., None], -1, (box, box), borderType=cv2.BORDER_REFLECT)
        local = (mean_ai + _EPS * mean_i) / (mean_a + _EPS)
        if small != (h, w):
            cv2.resize(local, (w, h), dst=colors[i], interpolation=cv2.INTER_LINEAR)
        else:
            colors[i] = local
    _project(image, alphas, colors)
    return colors


def _project(image: np.ndarray, alphas: np.ndarray, colors: np.ndarray) -> None:
    """In place, strip by strip: F_k += α_k r / Σ α_j², r = I - Σ α_k F_k; then clip to [0, 1]."""
    h, w = image.shape[:2]
    step = max(1, _STRIP_PIXELS // w)
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        a = alphas[:, y0:y1, :, None]
        f = colors[:, y0:y1]
        residual = image[y0:y1] - (a * f).sum(axis=0)
        residual /= np.maximum((a * a).sum(axis=0), np.float32(1e-6))
        f += a * residual
        np.clip(f, 0.0, 1.0, out=f)
