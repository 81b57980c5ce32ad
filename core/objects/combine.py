"""How a prediction meets the matte it corrects.

All alphas: (H, W) float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np

from core.errors import ParameterError

MODES = ("new", "add", "subtract", "intersect")
"""``new``: the prediction alone; ``add``: the union with the previous matte (the larger alpha);
``subtract``: the previous matte less the prediction (alpha minus alpha, so an edge both share
goes); ``intersect``: what both hold (the smaller alpha)."""


def combine(previous: np.ndarray | None, found: np.ndarray, mode: str) -> np.ndarray:
    """The matte after ``found`` is taken with ``mode`` into ``previous`` (None: nothing selected yet)."""
    if mode not in MODES:
        raise ParameterError(f"mode: expected one of {', '.join(MODES)}; got {mode!r}")
    if mode == "new":
        return found
    if previous is None:
        previous = np.zeros_like(found)
    if mode == "add":
        return np.maximum(previous, found)
    if mode == "subtract":
        return np.clip(previous - found, 0.0, 1.0)
    return np.minimum(previous, found)
