"""Select-and-Mask style edge controls applied to a finished alpha matte.

The controls are applied in Photoshop's order: smooth, feather, contrast,
shift edge. Distances are in pixels of the matte they are applied to.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import ParameterError


@dataclass(frozen=True)
class EdgeControls:
    """Edge adjustments; the defaults change nothing.

    smooth: 0–100, rounds off jagged contours (a blur of ``smooth / 10`` px whose
        softening is taken back by a matching contrast, so only the shape is smoothed).
    feather: ≥ 0 px, Gaussian softening of the edge (sigma in pixels).
    contrast: 0–100 %, hardens soft edges (100 gives a binary matte at 0.5).
    shift_edge: −100–100 %, moves the edge outwards (positive) or inwards: a
        gamma on alpha, 2 ** (−shift_edge / 50).
    """

    smooth: float = 0.0
    feather: float = 0.0
    contrast: float = 0.0
    shift_edge: float = 0.0

    def __post_init__(self) -> None:
        _check_range("smooth", self.smooth, 0.0, 100.0)
        _check_range("feather", self.feather, 0.0, 1000.0)
        _check_range("contrast", self.contrast, 0.0, 100.0)
        _check_range("shift_edge", self.shift_edge, -100.0, 100.0)

    @property
    def is_identity(self) -> bool:
        return self == EdgeControls()


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not (lo <= float(value) <= hi):
        raise ParameterError(f"{name}: expected a value in [{lo:g}, {hi:g}]; got {value}")


_NO_BLUR = 1e-6
"""A blur narrower than this (px) leaves every pixel as it is (OpenCV's kernel is one pixel wide);
a control so small that ``smooth / 10`` underflows to 0 would make OpenCV refuse the kernel."""


def _gaussian(alpha: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < _NO_BLUR:
        return alpha
    return cv2.GaussianBlur(alpha, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)


def _contrast(alpha: np.ndarray, gain: float) -> np.ndarray:
    out = alpha - np.float32(0.5)
    out *= np.float32(gain)
    out += np.float32(0.5)
    return np.clip(out, 0.0, 1.0, out=out)


def apply_edges(alpha: np.ndarray, controls: EdgeControls) -> np.ndarray:
    """Apply ``controls`` to a matte.

    Parameters
    ----------
    alpha: (H, W) float32 in [0, 1].
    controls: the adjustments.

    Returns
    -------
    alpha: (H, W) float32 in [0, 1] (a new array; the input is not changed).
    """
    if alpha.ndim != 2:
        raise ParameterError(f"alpha: expected (H, W); got shape {alpha.shape}")
    out = alpha.astype(np.float32, copy=True)
    if controls.smooth > 0:
        sigma = controls.smooth / 10.0
        out = _contrast(_gaussian(out, sigma), 1.0 + sigma)
    if controls.feather > 0:
        out = _gaussian(out, controls.feather)
    if controls.contrast > 0:
        gain = 1e6 if controls.contrast >= 100 else 100.0 / (100.0 - controls.contrast)
        out = _contrast(out, gain)
    if controls.shift_edge != 0:
        np.power(out, np.float32(2.0 ** (-controls.shift_edge / 50.0)), out=out)
    return out
