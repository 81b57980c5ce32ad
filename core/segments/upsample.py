"""Working-resolution layers → full-resolution layers, edge-aware, still a partition of unity."""

from __future__ import annotations

import cv2
import numpy as np

from core.alpha.guided_filter import guided_upsample
from core.segments.grouping import normalise

_STRIP_PIXELS = 1 << 20


def upsample_layers(
    layers: np.ndarray, guide_low: np.ndarray, image: np.ndarray, *, radius: int = 1, eps: float = 1e-5
) -> np.ndarray:
    """Bring K soft layers to the image's size with guided upsampling, then renormalise.

    Parameters
    ----------
    layers : (K, h, w) float32 in [0, 1], summing to 1 over K.
    guide_low : (h, w, 3) float32 in [0, 1], RGB, the image at (h, w).
    image : (H, W, 3) float32 in [0, 1], RGB.

    Returns
    -------
    alphas : (K, H, W) float32, >= 0, summing to 1 over K (to float32 rounding).
        Where guided upsampling leaves every layer at 0 (rare: all fits
        undershoot), the bilinearly resized layers are used instead.
    """
    k = layers.shape[0]
    h, w = image.shape[:2]
    out = np.empty((k, h, w), np.float32)
    for i in range(k):
        out[i] = guided_upsample(layers[i], guide_low, image, radius=radius, eps=eps)
    step = max(1, _STRIP_PIXELS // w)
    lh, lw = layers.shape[1:]
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        strip = out[:, y0:y1]
        total = strip.sum(axis=0)
        empty = total < 1e-3
        if empty.any():
            rows = np.flatnonzero(empty.any(axis=1))
            for i in range(k):
                linear = _bilinear_rows(layers[i], (lh, lw), (h, w), y0 + rows)
                strip[i, rows] = np.where(empty[rows], linear, strip[i, rows])
        normalise(strip)
    return out


def _bilinear_rows(layer: np.ndarray, low: tuple[int, int], full: tuple[int, int], rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of ``layer`` (low) bilinearly resized to ``full``, pixel-centre aligned like cv2.resize."""
    (lh, lw), (h, w) = low, full
    map_x = ((np.arange(w, dtype=np.float32) + 0.5) * (lw / w) - 0.5).astype(np.float32)
    map_y = ((rows.astype(np.float32) + 0.5) * (lh / h) - 0.5).astype(np.float32)
    mx = np.ascontiguousarray(np.broadcast_to(map_x, (len(rows), w)))
    my = np.ascontiguousarray(np.broadcast_to(map_y[:, None], (len(rows), w)))
    return cv2.remap(layer, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
