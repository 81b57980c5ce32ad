"""The images the tests feed the engine: synthetic scenes whose true matte is known (a red disc
with a soft rim, textured grounds, a clean-plate scene) and the folder of the real sample photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"


def red_disc_image(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A red disc on a blue ground with a soft rim.

    Returns (image (h, w, 3) float32 [0, 1] RGB, true alpha (h, w) float32 [0, 1]).
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(yy - h / 2, xx - w / 2)
    alpha = np.clip((min(h, w) * 0.3 - r) / 3.0 + 0.5, 0.0, 1.0).astype(np.float32)
    fg = np.array([0.9, 0.2, 0.1], np.float32)
    bg = np.array([0.1, 0.3, 0.8], np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return image.astype(np.float32), alpha


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """(h, w, 3) uint8: random coloured shapes, a document a photo of the screen can be located in."""
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), 128, np.uint8)
    for _ in range(500):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(4, 30))
        if rng.random() < 0.5:
            cv2.circle(image, (x, y), r, colour, -1)
        else:
            cv2.rectangle(image, (x, y), (x + r, y + int(rng.integers(4, 30))), colour, -1)
    return image


def plate_scene(h: int = 180, w: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red disc with a soft rim over a textured ground (the tiny model's subject, and red
    shapes to mislead it), and a handheld clean plate of that ground: moved up to 3 % and 2°,
    re-exposed, noisy (:func:`testing.plate_synthetic.plate_case`).

    Returns (image (h, w, 3) uint8, plate (h, w, 3) uint8, true alpha (h, w) float32 in [0, 1]).
    """
    from core.imageio import float_to_uint8
    from testing.plate_synthetic import plate_case

    _, alpha = red_disc_image(h, w)
    foreground = np.broadcast_to(np.float32([0.9, 0.2, 0.1]), (h, w, 3))
    ground = textured(2 * h, 2 * w, seed).astype(np.float32) / 255.0
    case = plate_case(foreground, alpha, ground, np.random.default_rng(seed))
    return float_to_uint8(case.image), float_to_uint8(case.plate), alpha
