"""Blur-fusion foreground estimation (Forte & Pitié, "Approximate Fast Foreground
Colour Estimation", ICIP 2021).

Solves I = αF + (1 − α)B for F with two passes of local box-blur estimates of F
and B: a wide pass whose blurs are computed at reduced resolution (they are
smooth anyway) and a narrow pass at full resolution. Linear in the pixel count,
a handful of full-size float32 buffers.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.errors import ParameterError

_EPS = np.float32(1e-5)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    size = 2 * radius + 1
    return cv2.boxFilter(image, -1, (size, size), normalize=True, borderType=cv2.BORDER_REFLECT)


def _blurred_fb(F: np.ndarray, B: np.ndarray, alpha: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Local means of F weighted by α and of B weighted by 1 − α."""
    a3 = alpha[:, :, None]
    mean_a = _box(alpha, radius)[:, :, None]
    blur_f = _box(F * a3, radius)
    blur_f /= mean_a + _EPS
    blur_b = _box(B * (1.0 - a3), radius)
    blur_b /= (1.0 - mean_a) + _EPS
    return blur_f, blur_b


def _fuse(image: np.ndarray, alpha: np.ndarray, blur_f: np.ndarray, blur_b: np.ndarray) -> np.ndarray:
    """F = F̄ + α (I − α F̄ − (1 − α) B̄), clipped to [0, 1], computed in place on ``blur_f``."""
    a3 = alpha[:, :, None]
    residual = image - a3 * blur_f
    residual -= (1.0 - a3) * blur_b
    residual *= a3
    blur_f += residual
    np.clip(blur_f, 0.0, 1.0, out=blur_f)
    return blur_f


def estimate_foreground_blur_fusion(
    image: np.ndarray,
    alpha: np.ndarray,
    *,
    wide_radius: int = 90,
    narrow_radius: int = 6,
    wide_scale_pixels: int = 1_000_000,
) -> np.ndarray:
    """Estimate the foreground colours of a matted image.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    alpha: (H, W) float32 in [0, 1].
    wide_radius: radius of the first pass, in pixels of a ``wide_scale_pixels`` image
        (it scales with the image's size).
    narrow_radius: radius of the second pass, in full-resolution pixels.
    wide_scale_pixels: the first pass runs at (at most) this many pixels.

    Returns
    -------
    foreground: (H, W, 3) float32 in [0, 1], RGB.
    """
    if image.ndim != 3 or image.shape[2] != 3 or alpha.shape != image.shape[:2]:
        raise ParameterError(f"image (H, W, 3) and alpha (H, W) must match; got {image.shape} and {alpha.shape}")
    image = image.astype(np.float32, copy=False)
    alpha = alpha.astype(np.float32, copy=False)
    h, w = alpha.shape
    scale = min(1.0, (wide_scale_pixels / float(h * w)) ** 0.5)
    if scale < 1.0:
        small = (max(1, round(w * scale)), max(1, round(h * scale)))
        image_s = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
        alpha_s = cv2.resize(alpha, small, interpolation=cv2.INTER_AREA)
    else:
        image_s, alpha_s = image, alpha
    wide = max(1, round(wide_radius * (image_s.shape[0] * image_s.shape[1] / wide_scale_pixels) ** 0.5))
    blur_f, blur_b = _blurred_fb(image_s, image_s, alpha_s, wide)
    F = _fuse(image_s, alpha_s, blur_f, blur_b)
    if scale < 1.0:
        F = cv2.resize(F, (w, h), interpolation=cv2.INTER_LINEAR)
        blur_b = cv2.resize(blur_b, (w, h), interpolation=cv2.INTER_LINEAR)
    blur_f, _ = _blurred_fb(F, blur_b, alpha, narrow_radius)
    del F
    return _fuse(image, alpha, blur_f, blur_b)


def decontaminate(image: np.ndarray, alpha: np.ndarray, *, amount: float = 1.0) -> np.ndarray:
    """Foreground colours blended with the original by ``amount``.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    alpha: (H, W) float32 in [0, 1].
    amount: 0 keeps the image's colours, 1 uses the estimated foreground.

    Returns
    -------
    colours: (H, W, 3) float32 in [0, 1], RGB.
    """
    if not 0.0 <= amount <= 1.0:
        raise ParameterError(f"amount: expected a value in [0, 1]; got {amount}")
    if amount == 0.0:
        return image.astype(np.float32, copy=True)
    fg = estimate_foreground_blur_fusion(image, alpha)
    if amount < 1.0:
        fg *= np.float32(amount)
        fg += np.float32(1.0 - amount) * image
    return fg
