"""Synthetic videos with a known alpha in every frame.

A matted photo's foreground (colours and alpha, e.g. from ``../shared/data/alphamatting``)
glides over a static background photo along a smooth path, turning and growing a little;
each frame gets its own sensor noise, so independent per-frame mattes flicker as they would
on real footage. All randomness comes from a ``numpy.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from testing.plate_synthetic import background_canvas


@dataclass(frozen=True)
class Frame:
    """One frame: image (H, W, 3) float32 RGB in [0, 1]; alpha (H, W) float32 in [0, 1], the truth."""

    image: np.ndarray
    alpha: np.ndarray


def subject_pose(t: float, size: tuple[int, int], *, travel: float = 0.08, turn: float = 3.0,
                 grow: float = 0.04) -> np.ndarray:
    """(2, 3) float64 affine map of the subject at time ``t`` in [0, 1]: a smooth loop of
    ``travel`` × the frame's width and height, a turn of up to ``turn`` degrees and a zoom
    of up to ``grow``, about the frame's centre."""
    h, w = size
    angle = turn * np.sin(2 * np.pi * t)
    scale = 1.0 + grow * np.sin(np.pi * t)
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, scale)
    matrix[0, 2] += travel * w * np.sin(2 * np.pi * t)
    matrix[1, 2] += 0.5 * travel * h * np.sin(4 * np.pi * t)
    return matrix


def moving_subject(foreground: np.ndarray, alpha: np.ndarray, photo: np.ndarray, frames: int,
                   rng: np.random.Generator, *, noise: float = 2.0 / 255.0) -> Iterator[Frame]:
    """``frames`` frames of ``foreground`` (H, W, 3) with ``alpha`` (H, W) (float32 in [0, 1])
    moving over ``photo`` (any size, scaled to cover the frame), with Gaussian noise of
    standard deviation ``noise``."""
    size = alpha.shape
    background = background_canvas(photo, size, margin=0.0)
    for k in range(frames):
        pose = subject_pose(k / max(1, frames), size)
        a = cv2.warpAffine(alpha, pose, (size[1], size[0]), flags=cv2.INTER_LINEAR, borderValue=0.0)
        f = cv2.warpAffine(foreground, pose, (size[1], size[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        image = a[:, :, None] * f + (1.0 - a[:, :, None]) * background
        image += rng.normal(0.0, noise, image.shape).astype(np.float32)
        yield Frame(np.clip(image, 0.0, 1.0).astype(np.float32), np.clip(a, 0.0, 1.0).astype(np.float32))
