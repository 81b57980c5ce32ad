"""Alpha re-read from the colours: once a solver has given alpha, estimate the foreground and
background colours F and B of each pixel and take alpha again as the projection of the pixel on
the line between them, α = (I − B)·(F − B) / |F − B|² (the compositing equation solved per
pixel, as sampling matting does). Thin strands, which propagation-based solvers pull towards
their neighbours' values, get back the share of colour they show; where F and B are too close in
colour for the projection to mean anything, the solver's alpha stays."""

from __future__ import annotations

import numpy as np

CONTRAST = 0.01
"""|F − B|² (RGB in [0, 1]) at and above which the projection replaces the solver's alpha; below,
they are blended in proportion."""


def reproject_alpha(image: np.ndarray, alpha: np.ndarray, unknown: np.ndarray, *,
                    contrast: float = CONTRAST) -> np.ndarray:
    """Alpha re-read from estimated colours on ``unknown``.

    image: (h, w, 3) float32 in [0, 1], RGB; alpha: (h, w) float32 in [0, 1], a solver's answer;
    unknown: (h, w) bool, the pixels it may change (elsewhere alpha stays).
    Returns (h, w) float32 in [0, 1].
    """
    if not unknown.any():
        return alpha
    from pymatting import estimate_foreground_ml  # here: pymatting's import costs 0.7 s (numba)

    fg, bg = estimate_foreground_ml(image.astype(np.float64), alpha.astype(np.float64), return_background=True)
    colour, fg, bg, solved = image[unknown], fg[unknown], bg[unknown], alpha[unknown]  # (n, 3) and (n,)
    diff = fg - bg
    spread = np.einsum("ij,ij->i", diff, diff)
    projected = np.clip(np.einsum("ij,ij->i", colour - bg, diff) / np.maximum(spread, 1e-9), 0.0, 1.0)
    trust = np.clip(spread / contrast, 0.0, 1.0)
    out = alpha.astype(np.float32, copy=True)
    out[unknown] = trust * projected + (1.0 - trust) * solved
    return out
