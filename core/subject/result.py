"""A Select Subject result (:class:`Matte`) and when it is flagged ``low_confidence``
(:func:`is_unsure`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.subject.working import resize_image
from core.views import CoarseMask, agreement

LOW_CONFIDENCE = 0.6
"""Below this coarse-mask confidence a result is flagged ``low_confidence``."""

LOW_AGREEMENT = 0.85
"""Below this agreement (soft IoU) between the refined alpha and the model's matte a result
is flagged ``low_confidence``: the colours and the model disagree about the subject."""

WHOLE_FRAME = 0.85
"""A result covering more than this share of the image is flagged ``low_confidence``:
"the whole picture" is rarely the subject (a crowd, a landscape)."""


@dataclass
class Matte:
    """A Select Subject result.

    alpha: (H, W) float32 in [0, 1], at the input's size, edge controls applied.
    foreground: (H, W, 3) float32 in [0, 1], RGB, decontaminated colours (None when
        :func:`core.subject.refine.refine_stage` was asked for no colours).
    coarse: the model's mask at the working size (with its confidence and views).
    trimap: (h, w) uint8 in {0, 128, 255} at the working size.
    refined: (h, w) float32 in [0, 1], the refined alpha at the working size.
    unedited: (H, W) float32 in [0, 1], the full-size alpha before edge controls
        (what re-adjusting edges starts from, see :func:`core.subject.finish.finish_edges`).
    timings: seconds per stage.
    strands: (h, w) bool at the working size, where the trimap looked for strands beyond the
        model's matte (:func:`core.subject.trimap.matting_trimap`), or None.
    background: (H, W, 3) float32 in [0, 1] and known: (H, W) bool, the true background
        where it is known (a clean plate, :mod:`core.plate`), which the colours were
        decontaminated against and re-adjusting should use too; None without one.
    """

    alpha: np.ndarray
    foreground: np.ndarray | None
    coarse: CoarseMask
    trimap: np.ndarray
    refined: np.ndarray
    unedited: np.ndarray
    timings: dict[str, float]
    background: np.ndarray | None = None
    known: np.ndarray | None = None
    strands: np.ndarray | None = None

    @property
    def confidence(self) -> float:
        return self.coarse.confidence

    @property
    def low_confidence(self) -> bool:
        """Whether the result is likely wrong (:func:`is_unsure`; calibrated on ECSSD, docs/quality.md)."""
        return is_unsure(self.coarse, self.refined, self.strands)


def is_unsure(coarse: CoarseMask, refined: np.ndarray, strands: np.ndarray | None = None) -> bool:
    """Whether a Select Subject result is likely wrong: the model's views were unsure or
    disagreed (``coarse.confidence < LOW_CONFIDENCE``), the refined alpha ((h, w) float32 in
    [0, 1], at the coarse mask's size) moved far from the model's matte (soft IoU below
    ``LOW_AGREEMENT``) outside ``strands`` ((h, w) bool, where the trimap looked for strands
    the model missed, or None), or it covers nearly the whole image (``WHOLE_FRAME``)."""
    if coarse.confidence < LOW_CONFIDENCE:
        return True
    model = coarse.alpha if coarse.alpha.shape == refined.shape else resize_image(coarse.alpha, refined.shape)
    kept = slice(None) if strands is None or strands.shape != refined.shape else ~strands
    return agreement(refined[kept], model[kept]) < LOW_AGREEMENT or float(np.mean(refined >= 0.5)) > WHOLE_FRAME
