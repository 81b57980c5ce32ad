"""sRGB transfer function: encoded values ↔ linear light (IEC 61966-2-1).

Exposure and white balance act on linear light, so photometric matching
between two photos is done there.
"""

from __future__ import annotations

import numpy as np


def to_linear(image: np.ndarray) -> np.ndarray:
    """sRGB-encoded (..., C) float in [0, 1] → linear light, float32 in [0, 1]."""
    x = np.asarray(image, np.float32)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light (..., C) float (clipped to [0, 1]) → sRGB-encoded float32 in [0, 1]."""
    x = np.clip(np.asarray(linear, np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)
