"""The model stage, Select Subject's first half: the working image and the model's views
(:func:`model_stage`), and what it hands the refine stage (:class:`Coarse`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.subject.options import MatteOptions
from core.subject.stopwatch import Progress, Stopwatch
from core.subject.working import check_image, resize_image, working_size
from core.views import CoarseMask, predict_coarse


@dataclass
class Coarse:
    """The model stage's output, input to :func:`core.subject.refine.refine_stage`.

    small: (h, w, 3) float32 in [0, 1], RGB, the working image.
    coarse: the model's mask at the working size.
    timings: seconds per stage so far.
    """

    small: np.ndarray
    coarse: CoarseMask
    timings: dict[str, float]


def model_stage(
    image: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    options: MatteOptions = MatteOptions(),
    *,
    progress: Progress | None = None,
) -> Coarse:
    """First half of Select Subject: the working image and the model's views.

    image: (H, W, 3) float32 in [0, 1], RGB. ``predict`` as in :func:`core.subject.select.select_subject`.
    """
    check_image(image)
    watch = Stopwatch(progress)
    small = resize_image(image, working_size(image.shape, options.pixels))
    watch.lap("resize", 0.05)
    coarse = predict_coarse(small, predict)
    watch.lap("model", 0.55)
    return Coarse(small, coarse, watch.timings)
