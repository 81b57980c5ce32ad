"""Blur-fusion foreground estimation (Forte & Pitié, "Approximate Fast Foreground
Colour Estimation", ICIP 2021).

Solves I = αF + (1 − α)B for F with two passes of local box-blur estimates:

    F̄ = blur(F α) / blur(α),   B̄ = blur(B (1 − α)) / blur(1 − α)
    F  = F̄ + α (I − α F̄ − (1 − α) B̄)

a wide pass (F = B = I) then a narrow pass (F and B from the first). The local
means F̄ and B̄ are smooth, so both passes run at a bounded resolution; only the
last fusion step runs at full resolution, and only on pixels with 0 < α < 1
(where α = 1 it gives I itself, where α = 0 it gives F̄). Linear in the pixel
count, a few full-size float32 buffers.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.errors import ParameterError

_EPS = np.float32(1e-5)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    size = 2 * radius + 1
    return cv2.boxFilter(image, -1, (size, size), normalize=True, borderType=cv2.BORDER_REFLECT)


def _local_means(F: np.ndarray, B: np.ndarray, alpha: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """F̄ (α-weighted local mean of F) and B̄ ((1 − α)-weighted local mean of B), (h, w, 3) float32."""
    a3 = alpha[:, :, None]
    mean_a = _box(alpha, radius)[:, :, None]
    blur_f = _box(F * a3, radius)
    blur_f /= mean_a + _EPS
    blur_b = _box(B * (1.0 - a3), radius)
    blur_b /= (1.0 - mean_a) + _EPS
    return blur_f, blur_b


def _fuse(image: np.ndarray, alpha: np.ndarray, blur_f: np.ndarray, blur_b: np.ndarray) -> np.ndarray:
    """F = F̄ + α (I − α F̄ − (1 − α) B̄), clipped to [0, 1]. Arrays (n, 3) / (n, 1) or (h, w, ...)."""
    a = alpha[..., None]
    out = image - a * blur_f
    out -= (1.0 - a) * blur_b
    out *= a
    out += blur_f
    return np.clip(out, 0.0, 1.0, out=out)


KNOWN_PRIOR = np.float32(0.05)
"""Weight of the local mean F̄ against the matting equation where the background is known."""


def _fuse_known(image: np.ndarray, alpha: np.ndarray, blur_f: np.ndarray, background: np.ndarray) -> np.ndarray:
    """F with B known: the minimiser of |I − αF − (1 − α)B|² + k |F − F̄|², i.e.
    F = (α (I − (1 − α) B) + k F̄) / (α² + k), clipped to [0, 1]. Arrays (n, 3) / (n,)."""
    a = alpha[..., None]
    out = image - (1.0 - a) * background
    out *= a
    out += KNOWN_PRIOR * blur_f
    out /= a * a + KNOWN_PRIOR
    return np.clip(out, 0.0, 1.0, out=out)


def estimate_foreground_blur_fusion(
    image: np.ndarray,
    alpha: np.ndarray,
    *,
    wide_radius: int = 90,
    narrow_radius: int = 6,
    reference_pixels: int = 1_000_000,
    max_blur_pixels: int = 1_000_000,
    background: np.ndarray | None = None,
    known: np.ndarray | None = None,
) -> np.ndarray:
    """Estimate the foreground colours of a matted image.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    alpha: (H, W) float32 in [0, 1].
    wide_radius, narrow_radius: radii of the two passes, in pixels of a
        ``reference_pixels`` image (they scale with the image's size; the narrow
        radius is at least 1 px at the size the blurs run at).
    max_blur_pixels: the local means are computed at (at most) this many pixels.
    background: (H, W, 3) float32 in [0, 1], the true background where it is known (a
        clean plate). There the narrow pass starts from the wide pass's colours fused
        with it, and the last step solves I = αF + (1 − α)B for F with B given, leaning
        on the local mean F̄ only as much as α is small (:func:`_fuse_known`).
    known: (H, W) bool, where ``background`` holds (default: everywhere).

    Returns
    -------
    foreground: (H, W, 3) float32 in [0, 1], RGB. Equal to ``image`` where α = 1.
    """
    if image.ndim != 3 or image.shape[2] != 3 or alpha.shape != image.shape[:2]:
        raise ParameterError(f"image (H, W, 3) and alpha (H, W) must match; got {image.shape} and {alpha.shape}")
    image = image.astype(np.float32, copy=False)
    alpha = alpha.astype(np.float32, copy=False)
    h, w = alpha.shape
    scale = min(1.0, (max_blur_pixels / float(h * w)) ** 0.5)
    if background is not None:
        if background.shape != image.shape:
            raise ParameterError(f"background: expected shape {image.shape}; got {background.shape}")
        background = background.astype(np.float32, copy=False)
        known = np.ones((h, w), bool) if known is None else known
    if scale < 1.0:
        small = (max(1, round(w * scale)), max(1, round(h * scale)))
        image_s = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
        alpha_s = np.clip(cv2.resize(alpha, small, interpolation=cv2.INTER_AREA), 0.0, 1.0)
    else:
        small, image_s, alpha_s = (w, h), image, alpha
    px_scale = (image_s.shape[0] * image_s.shape[1] / reference_pixels) ** 0.5
    wide = max(1, round(wide_radius * px_scale))
    narrow = max(1, round(narrow_radius * px_scale))
    blur_f, blur_b = _local_means(image_s, image_s, alpha_s, wide)
    F = _fuse(image_s, alpha_s, blur_f, blur_b)
    if background is not None:
        known_s = cv2.resize(known.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST) > 0
        background_s = cv2.resize(background, small, interpolation=cv2.INTER_AREA) if scale < 1.0 else background
        F[known_s] = _fuse_known(image_s[known_s], alpha_s[known_s], blur_f[known_s], background_s[known_s])
    blur_f, blur_b = _local_means(F, blur_b, alpha_s, narrow)
    del F
    if scale < 1.0:  # F̄ to full size (it becomes the output); B̄ only to full width, its rows strip by strip
        blur_f = cv2.resize(blur_f, (w, h), interpolation=cv2.INTER_LINEAR)
        blur_b = cv2.resize(blur_b, (w, blur_b.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = np.ascontiguousarray(blur_f)  # the strips write into it through reshaped views
    step = max(1, _STRIP_PIXELS // w)
    for y0 in range(0, h, step):  # in row strips: the soft pixels' temporaries are a strip's, not the image's
        rows = slice(y0, y0 + step)
        strip_b = _linear_rows(blur_b, h, y0, min(h, y0 + step)) if scale < 1.0 else blur_b[rows]
        _fuse_rows(out[rows], strip_b, image[rows], alpha[rows],
                   None if background is None else background[rows], None if known is None else known[rows])
    return out


def _linear_rows(wide: np.ndarray, height: int, y0: int, y1: int) -> np.ndarray:
    """Rows ``y0:y1`` of ``wide`` (hs, W, 3) float32 resized bilinearly to ``height`` rows, as
    ``cv2.resize(..., INTER_LINEAR)`` maps them (pixel centres aligned, edge rows repeated;
    equal to it within 3e-5). Returns (y1 - y0, W, 3) float32."""
    hs = wide.shape[0]
    fy = ((np.arange(y0, y1, dtype=np.float64) + 0.5) * (hs / height) - 0.5).astype(np.float32)
    top = np.floor(fy).astype(np.int64)
    frac = fy - top.astype(np.float32)
    outside = (top < 0) | (top >= hs - 1)
    frac[outside] = 0.0
    top = np.clip(top, 0, hs - 1)
    below = np.minimum(top + 1, hs - 1)
    out = wide[top] * (np.float32(1.0) - frac)[:, None, None]
    out += wide[below] * frac[:, None, None]
    return out


_STRIP_PIXELS = 1 << 18
"""Pixels per strip of the full-size fusion (a soft pixel's temporaries are ~80 bytes: 20 MB a strip)."""


def _fuse_rows(out: np.ndarray, blur_b: np.ndarray, image: np.ndarray, alpha: np.ndarray,
               background: np.ndarray | None, known: np.ndarray | None) -> None:
    """The full-size step on a strip of rows, in place in ``out`` (F̄ in, F out): the image where
    α = 1, the fusion where 0 < α < 1 (with the known background where ``known``).

    out, blur_b, image, background: (h, w, 3) float32; alpha: (h, w) float32; known: (h, w) bool.
    """
    np.copyto(out, image, where=(alpha >= 1.0)[:, :, None])
    soft = (alpha > 0.0) & (alpha < 1.0)
    flat_out, flat_b, flat_i, flat_a = out.reshape(-1, 3), blur_b.reshape(-1, 3), image.reshape(-1, 3), alpha.ravel()
    guessed = np.flatnonzero(soft if background is None else soft & ~known)
    flat_out[guessed] = _fuse(flat_i[guessed], flat_a[guessed], flat_out[guessed], flat_b[guessed])
    if background is not None:
        given = np.flatnonzero(soft & known)
        flat_out[given] = _fuse_known(flat_i[given], flat_a[given], flat_out[given], background.reshape(-1, 3)[given])


def decontaminate(image: np.ndarray, alpha: np.ndarray, *, amount: float = 1.0,
                  background: np.ndarray | None = None, known: np.ndarray | None = None) -> np.ndarray:
    """Foreground colours blended with the original by ``amount``.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    alpha: (H, W) float32 in [0, 1].
    amount: 0 keeps the image's colours, 1 uses the estimated foreground.
    background, known: the true background where known (see
        :func:`estimate_foreground_blur_fusion`).

    Returns
    -------
    colours: (H, W, 3) float32 in [0, 1], RGB.
    """
    if not 0.0 <= amount <= 1.0:
        raise ParameterError(f"amount: expected a value in [0, 1]; got {amount}")
    if amount == 0.0:
        return image.astype(np.float32, copy=True)
    fg = estimate_foreground_blur_fusion(image, alpha, background=background, known=known)
    if amount < 1.0:
        fg *= np.float32(amount)
        fg += np.float32(1.0 - amount) * image
    return fg
