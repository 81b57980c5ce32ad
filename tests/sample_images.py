"""The images the tests feed the engine: synthetic scenes whose true matte is known (a red disc
with a soft rim, textured grounds, a clean-plate scene), and the folder of the real photos with true
mattes that the evaluation scores (:func:`needs_shared_data`)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"
SHARED_DATA_REASON = (f"scores the shared alphamatting data, absent here ({SHARED_DATA}): part of the evaluation, "
                      "see the README's Evaluation")


def needs_shared_data(test):
    """Mark ``test`` as part of the evaluation (``pytest -m shared_data``): it scores the images of
    ../shared/data/alphamatting against their true mattes, and is skipped, with the reason, where that
    folder is absent (a fresh clone). Tests that only need an image use the generated ones here."""
    return pytest.mark.shared_data(pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=SHARED_DATA_REASON)(test))


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


def furry_scene(h: int = 300, w: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The sample's furry subject (:func:`core.sample.furry_subject`, hundreds of fractional strands), at
    half the frame's size and left of centre, over an out-of-focus ground (a colour gradient and blurred
    blobs, as a photo's background) filling the frame: a photo-like image with a true matte whose unknown
    region is a part of the frame.

    Returns (image (h, w, 3) float32 in [0, 1] RGB, true alpha (h, w) float32 in [0, 1])."""
    from core.sample import furry_subject
    from testing.plate_synthetic import estimate_foreground

    sh, sw = h // 2, w // 2
    small, small_alpha = furry_subject(width=sw, height=sh)
    y0, x0 = (h - sh) // 2, (w - sw) // 2 - w // 10
    alpha = np.zeros((h, w), np.float32)
    foreground = np.zeros((h, w, 3), np.float32)
    alpha[y0:y0 + sh, x0:x0 + sw] = small_alpha
    foreground[y0:y0 + sh, x0:x0 + sw] = estimate_foreground(small, small_alpha)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ground = np.stack([0.25 + 0.5 * xx / w, 0.55 + 0.2 * yy / h, 0.75 - 0.3 * xx / w], axis=2)
    blobs = np.zeros((h, w), np.float32)
    for _ in range(10):
        cv2.circle(blobs, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(rng.uniform(10, 40)), 1.0, -1)
    blobs = cv2.GaussianBlur(blobs, (0, 0), 6)[:, :, None]
    ground = ground * (1 - 0.35 * blobs) + 0.35 * blobs * np.float32([0.95, 0.9, 0.6])
    image = alpha[..., None] * foreground + (1 - alpha[..., None]) * ground
    return image.astype(np.float32), alpha


def trimap_of(alpha: np.ndarray, width: int = 5) -> np.ndarray:
    """(h, w) uint8 trimap of a true matte: 255 sure subject, 0 sure background (each shrunk by ``width``
    pixels), 128 between."""
    kernel = np.ones((width, width), np.uint8)
    trimap = np.full(alpha.shape, 128, np.uint8)
    trimap[cv2.erode((alpha > 0.99).astype(np.uint8), kernel) > 0] = 255
    trimap[cv2.dilate((alpha > 0.01).astype(np.uint8), kernel) == 0] = 0
    return trimap
