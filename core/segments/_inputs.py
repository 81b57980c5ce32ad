"""Argument checks of :func:`core.segments.soft_segments`."""

from __future__ import annotations

import numpy as np

from core.alpha._inputs import check_image, check_positive
from core.errors import ParameterError
from core.segments.types import SegmentOptions

MIN_COUNT, MAX_COUNT = 2, 10


def check_arguments(image: np.ndarray, count: int, features: np.ndarray | None, options: SegmentOptions) -> None:
    """Raise ParameterError naming the argument when any input is unusable."""
    check_image(image)
    if image.dtype != np.float32:
        raise ParameterError(f"image must be float32 in [0, 1]; got dtype {image.dtype}")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not MIN_COUNT <= count <= MAX_COUNT:
        raise ParameterError(f"count must be an integer from {MIN_COUNT} to {MAX_COUNT}; got {count!r}")
    if features is not None:
        if not isinstance(features, np.ndarray) or features.ndim != 3 or min(features.shape) < 1:
            got = getattr(features, "shape", type(features).__name__)
            raise ParameterError(f"features must be an (h, w, C) float32 array or None; got {got}")
        if not np.issubdtype(features.dtype, np.floating) or not np.isfinite(features).all():
            raise ParameterError(f"features must be finite float32 values; got dtype {features.dtype}")
    if not isinstance(options, SegmentOptions):
        raise ParameterError(f"options must be a SegmentOptions; got {type(options).__name__}")
    for name in ("working_pixels", "eigenvectors", "initial_segments", "superpixel_size", "upsample_radius"):
        check_positive(getattr(options, name), f"options.{name}", integer=True)
    check_positive(options.sparsify_iterations, "options.sparsify_iterations", integer=True, allow_zero=True)
    for name in ("semantic_weight", "color_weight", "group_feature_weight", "group_color_weight", "group_position_weight"):
        check_positive(getattr(options, name), f"options.{name}", allow_zero=True)
    for name in ("matting_epsilon", "upsample_eps", "color_radius"):
        check_positive(getattr(options, name), f"options.{name}")
    if not 0.0 < options.sparsity < 1.0:
        raise ParameterError(f"options.sparsity must be in (0, 1); got {options.sparsity!r}")
