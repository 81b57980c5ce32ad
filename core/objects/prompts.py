"""The prompts of an Object Selection, checked and mapped to the working size.

Coordinates are pixels of the full image, x to the right and y down, (0, 0) the top-left
pixel's corner; a point (x, y) lies in pixel (int(y), int(x)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import ParameterError


@dataclass(frozen=True)
class Prompts:
    """What the user gave, at one scale.

    positive, negative: (n, 2) float64 (x, y) click positions.
    box: (x0, y0, x1, y1) with x0 < x1, y0 < y1, inside the image; or None.
    mask: (h, w) bool, the rough region the user drew; or None.
    """

    positive: np.ndarray
    negative: np.ndarray
    box: tuple[float, float, float, float] | None
    mask: np.ndarray | None

    @property
    def clicks(self) -> np.ndarray:
        """(n, 2) every click, positive first."""
        return np.concatenate([self.positive, self.negative])


def check_prompts(shape: tuple[int, int], points: Sequence, box: Sequence[float] | None,
                  mask: np.ndarray | None) -> Prompts:
    """Checked prompts for an image of ``shape`` (H, W).

    points: (x, y, positive) triples; box: (x0, y0, x1, y1) or None; mask: (H, W) array, bool or
    float in [0, 1] (taken at 0.5), or None. Raises ParameterError naming what is wrong.
    """
    height, width = shape
    positive, negative = [], []
    for i, point in enumerate(points or ()):
        try:
            x, y, sign = point
            x, y = float(x), float(y)
        except (TypeError, ValueError):
            raise ParameterError(f"points[{i}]: expected (x, y, positive); got {point!r}") from None
        if not (0 <= x < width and 0 <= y < height):
            raise ParameterError(f"points[{i}]: ({x:g}, {y:g}) is outside the {width}×{height} image")
        (positive if bool(sign) else negative).append((x, y))
    checked_box = None
    if box is not None:
        try:
            x0, y0, x1, y1 = (float(v) for v in box)
        except (TypeError, ValueError):
            raise ParameterError(f"box: expected (x0, y0, x1, y1); got {box!r}") from None
        x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height))
        if not (x1 - x0 >= 2 and y1 - y0 >= 2):
            raise ParameterError(f"box: ({', '.join(f'{v:g}' for v in box)}) holds less than 2×2 pixels of the image")
        checked_box = (x0, y0, x1, y1)
    checked_mask = None
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != (height, width):
            raise ParameterError(f"mask: expected shape {(height, width)}; got {mask.shape}")
        checked_mask = mask > 0.5 if mask.dtype != bool else mask.copy()
        if not checked_mask.any():
            raise ParameterError("mask: the region is empty")
    if not positive and not negative and checked_box is None and checked_mask is None:
        raise ParameterError("no prompt: give points, a box or a mask")
    as_array = lambda xs: np.asarray(xs, np.float64).reshape(-1, 2)  # noqa: E731
    return Prompts(as_array(positive), as_array(negative), checked_box, checked_mask)


def scaled(prompts: Prompts, shape: tuple[int, int], size: tuple[int, int]) -> Prompts:
    """``prompts`` given on an image of ``shape`` (H, W), mapped onto one of ``size`` (h, w)."""
    sy, sx = size[0] / shape[0], size[1] / shape[1]
    scale = np.array([sx, sy])
    box = None
    if prompts.box is not None:
        x0, y0, x1, y1 = prompts.box
        box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
    mask = None
    if prompts.mask is not None:
        mask = cv2.resize(prompts.mask.astype(np.uint8), (size[1], size[0]), interpolation=cv2.INTER_NEAREST) > 0
        if not mask.any():  # a region thinner than a working pixel keeps its pixels
            mask = cv2.resize(prompts.mask.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA) > 0
    return Prompts(prompts.positive * scale, prompts.negative * scale, box, mask)


def disks(points: np.ndarray, shape: tuple[int, int], radius: float) -> np.ndarray:
    """(h, w) bool: discs of ``radius`` pixels around ``points`` ((n, 2) x, y)."""
    out = np.zeros(shape, np.uint8)
    for x, y in points:
        cv2.circle(out, (int(x), int(y)), max(1, int(round(radius))), 1, thickness=-1)
    return out > 0
