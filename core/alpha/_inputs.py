"""Input checks and trimap splitting shared by the trimap-based solvers."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from core.errors import ParameterError


class TrimapRegions(NamedTuple):
    """Boolean (H, W) masks of a trimap's three regions."""

    fg: np.ndarray
    bg: np.ndarray
    unknown: np.ndarray


def check_image(image: np.ndarray, name: str = "image") -> None:
    """Raise ParameterError unless ``image`` is (H, W, 3) float in [0, 1]."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        got = getattr(image, "shape", type(image).__name__)
        raise ParameterError(f"{name} must be an (H, W, 3) RGB array; got {got}")
    if image.dtype not in (np.float32, np.float64):
        raise ParameterError(f"{name} must be float32 (or float64) in [0, 1]; got dtype {image.dtype}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ParameterError(f"{name} must not be empty; got shape {image.shape}")
    lo, hi = float(image.min()), float(image.max())
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0.0 or hi > 1.0:
        raise ParameterError(f"{name} values must be finite and in [0, 1]; got range [{lo}, {hi}]")


def check_trimap(trimap: np.ndarray, shape: tuple[int, int], name: str = "trimap") -> None:
    """Raise ParameterError unless ``trimap`` is (H, W) uint8 matching ``shape``."""
    if not isinstance(trimap, np.ndarray) or trimap.ndim != 2:
        got = getattr(trimap, "shape", type(trimap).__name__)
        raise ParameterError(f"{name} must be an (H, W) array; got {got}")
    if trimap.dtype != np.uint8:
        raise ParameterError(f"{name} must be uint8 (0 = bg, 128 = unknown, 255 = fg); got dtype {trimap.dtype}")
    if trimap.shape != tuple(shape):
        raise ParameterError(f"{name} shape {trimap.shape} does not match the image's {tuple(shape)}")


def check_positive(value: float, name: str, *, integer: bool = False, allow_zero: bool = False) -> None:
    """Raise ParameterError unless ``value`` is a positive (or non-negative) finite number."""
    ok_type = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.number))
    if isinstance(value, bool) or not ok_type or not np.isfinite(value):
        kind = "an integer" if integer else "a finite number"
        raise ParameterError(f"{name} must be {kind}; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ParameterError(f"{name} must be {bound}; got {value!r}")


def split_trimap(trimap: np.ndarray) -> TrimapRegions:
    """Split a uint8 trimap: 0 is background, 255 foreground, anything else unknown."""
    fg = trimap == 255
    bg = trimap == 0
    return TrimapRegions(fg=fg, bg=bg, unknown=~(fg | bg))


def degenerate_alpha(regions: TrimapRegions) -> np.ndarray | None:
    """Alpha for trimaps whose solution needs no solver, else None.

    - no unknown pixels: the trimap itself;
    - only one known label (all known pixels foreground, or all background):
      every affinity-based energy is minimised by the constant, so the unknown
      region takes that label;
    - no known pixels at all: ParameterError, there is nothing to propagate.
    """
    fg, bg, unknown = regions
    if not unknown.any():
        return fg.astype(np.float32)
    has_fg, has_bg = bool(fg.any()), bool(bg.any())
    if not has_fg and not has_bg:
        raise ParameterError("trimap has no known pixels (no 0 and no 255 values); nothing to propagate")
    if has_fg and has_bg:
        return None
    return np.full(fg.shape, 1.0 if has_fg else 0.0, dtype=np.float32)


def unknown_window(regions: TrimapRegions, *, margin: int) -> tuple[slice, slice] | None:
    """The unknown pixels' bounding box grown by ``margin`` px, where solving there suffices.

    Returns (rows, cols) slices, or None when the box is most of the image
    (cropping would save little) or when it would lose a known label that the
    whole trimap has (the solution would change, not just its cost).
    """
    rows = np.flatnonzero(regions.unknown.any(axis=1))
    cols = np.flatnonzero(regions.unknown.any(axis=0))
    h, w = regions.unknown.shape
    box = (
        slice(max(0, rows[0] - margin), min(h, rows[-1] + margin + 1)),
        slice(max(0, cols[0] - margin), min(w, cols[-1] + margin + 1)),
    )
    area = (box[0].stop - box[0].start) * (box[1].stop - box[1].start)
    if area > 0.8 * h * w:
        return None
    if not regions.fg[box].any() or not regions.bg[box].any():
        return None
    return box
