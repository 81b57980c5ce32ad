"""Turning an alpha matte and foreground colours into output pixels."""

from __future__ import annotations

import numpy as np

from core.errors import ParameterError
from core.imageio import float_to_uint8


def cutout_rgba(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight (un-premultiplied) RGBA cut-out.

    Parameters
    ----------
    foreground: (H, W, 3) float32 in [0, 1], RGB.
    alpha: (H, W) float32 in [0, 1].

    Returns
    -------
    rgba: (H, W, 4) uint8, RGBA.
    """
    _check(foreground, alpha)
    out = np.empty(alpha.shape + (4,), np.uint8)
    out[:, :, :3] = float_to_uint8(foreground)
    out[:, :, 3] = float_to_uint8(alpha)
    return out


def subject_box(alpha: np.ndarray, *, threshold: float = 1 / 255, margin: int = 2) -> tuple[int, int, int, int]:
    """The rectangle holding every pixel of ``alpha`` above ``threshold``, grown by ``margin``.

    alpha: (H, W) float32 in [0, 1] (or uint8 0–255, compared as /255).
    Returns (x, y, width, height) inside the image; the whole image when nothing is above
    the threshold (an empty matte is the user's to see, not to lose).
    """
    values = alpha.astype(np.float32) / 255.0 if alpha.dtype == np.uint8 else alpha
    h, w = values.shape[:2]
    inside = values > threshold
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    if rows.size == 0:
        return 0, 0, w, h
    x0, y0 = max(int(cols[0]) - margin, 0), max(int(rows[0]) - margin, 0)
    x1, y1 = min(int(cols[-1]) + 1 + margin, w), min(int(rows[-1]) + 1 + margin, h)
    return x0, y0, x1 - x0, y1 - y0


def over_colour(foreground: np.ndarray, alpha: np.ndarray, colour: tuple[float, float, float]) -> np.ndarray:
    """The cut-out composited over a flat colour.

    Parameters
    ----------
    foreground: (H, W, 3) float32 in [0, 1], RGB.
    alpha: (H, W) float32 in [0, 1].
    colour: RGB in [0, 1].

    Returns
    -------
    rgb: (H, W, 3) uint8, RGB.
    """
    _check(foreground, alpha)
    a3 = alpha[:, :, None]
    out = foreground * a3
    out += (1.0 - a3) * np.asarray(colour, np.float32)
    return float_to_uint8(out)


def stacked_masks(alphas: np.ndarray) -> np.ndarray:
    """Layer masks that make soft layers stack back into the image with normal blending.

    alphas: (K, H, W) float32, each ≥ 0, summing to 1 over K at every pixel (soft
    segments, bottom layer first). Returns (K, H, W) float32 in [0, 1]: layer k's mask is
    its share of what layers 0…k hold there, alphas[k] / Σ_{j≤k} alphas[j] (the bottom
    layer's is 1 wherever it has any alpha, so the stack is opaque). Composited bottom to top,
    out = m_k·F_k + (1 − m_k)·out gives Σ_k alphas[k]·F_k: the image, and editing one
    layer's colours changes the result exactly by that segment's share.
    """
    if alphas.ndim != 3:
        raise ParameterError(f"alphas: expected (K, H, W); got shape {alphas.shape}")
    below = np.cumsum(alphas, axis=0, dtype=np.float32)
    out = np.zeros_like(alphas, dtype=np.float32)
    np.divide(alphas, below, out=out, where=below > 1e-6)
    return np.clip(out, 0.0, 1.0, out=out)


def parse_colour(text: str) -> tuple[float, float, float]:
    """'#rrggbb', 'rrggbb' or 'r,g,b' (0–255) → RGB floats in [0, 1]."""
    value = text.strip().lstrip("#")
    try:
        if "," in value:
            parts = [int(p) for p in value.split(",")]
        elif len(value) == 6:
            parts = [int(value[i : i + 2], 16) for i in (0, 2, 4)]
        else:
            raise ValueError(value)
    except ValueError:
        raise ParameterError(f"colour: expected '#rrggbb' or 'r,g,b'; got {text!r}") from None
    if len(parts) != 3 or not all(0 <= p <= 255 for p in parts):
        raise ParameterError(f"colour: expected three values in 0..255; got {text!r}")
    return (parts[0] / 255.0, parts[1] / 255.0, parts[2] / 255.0)


def _check(foreground: np.ndarray, alpha: np.ndarray) -> None:
    if foreground.ndim != 3 or foreground.shape[2] != 3 or foreground.shape[:2] != alpha.shape:
        raise ParameterError(
            f"foreground (H, W, 3) and alpha (H, W) must match; got {foreground.shape} and {alpha.shape}"
        )
