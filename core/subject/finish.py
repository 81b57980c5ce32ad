"""Edge controls and decontamination on a full-size matte: the end of Select Subject, and all
that re-adjusting an earlier result runs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.edges import EdgeControls, apply_edges
from core.foreground.blur_fusion import decontaminate


def finish_edges(
    image: np.ndarray,
    unedited: np.ndarray,
    edges: EdgeControls,
    amount: float,
    *,
    progress: Callable[[str, float], None] | None = None,
    background: np.ndarray | None = None,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Edge controls and decontamination on a full-size matte (also what re-adjusting
    an earlier result runs, without the model or the solver).

    image: (H, W, 3) float32 in [0, 1], RGB; unedited: (H, W) float32 in [0, 1], the
    matte before edge controls; background (H, W, 3) float32 in [0, 1] and known (H, W)
    bool: the true background where a clean plate gives it (see
    :func:`core.foreground.blur_fusion.decontaminate`).
    Returns (alpha (H, W), foreground (H, W, 3)), float32 in [0, 1].
    """
    lap = progress or (lambda name, fraction: None)
    alpha = unedited if edges.is_identity else apply_edges(unedited, edges)
    lap("edges", 0.88)
    foreground = decontaminate(image, alpha, amount=amount, background=background, known=known)
    lap("foreground", 1.0)
    return alpha, foreground
