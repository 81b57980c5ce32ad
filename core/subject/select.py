"""One click: Select Subject's model stage then its refine stage (:func:`select_subject`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.subject.coarse import model_stage
from core.subject.options import MatteOptions
from core.subject.refine import refine_stage
from core.subject.result import Matte
from core.subject.stopwatch import Progress


def select_subject(
    image: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    options: MatteOptions = MatteOptions(),
    *,
    progress: Progress | None = None,
) -> Matte:
    """One click: the salient subject's soft matte and clean foreground colours.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    predict: a model's ``predict`` (RGB float32 [0, 1] → (h, w) float32 [0, 1] mask),
        e.g. :meth:`core.models.session.MaskSession.predict`.
    options: refinement, edge controls and decontamination.
    progress: called with (fraction, stage) as stages finish.

    Returns
    -------
    :class:`core.subject.result.Matte` with full-size alpha and foreground.
    """
    stage = model_stage(image, predict, options, progress=progress)
    return refine_stage(image, stage, options, progress=progress)
