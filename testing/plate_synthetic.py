"""Clean-plate test cases from matted photos, with exact ground truth.

From a photo with its ground-truth alpha (``../shared/data/alphamatting``) and another
photo used as the new background:

1. the foreground colours F are estimated from the photo and its gt (pymatting's
   multi-level estimate);
2. the other photo is scaled to cover the frame with a margin; the image is
   αF + (1 − α)B over its central view;
3. the plate is the same background seen by a camera moved by hand: a rigid motion
   about the frame's centre (up to 3 % of each side of translation and 2° of
   rotation), an exposure change applied in linear light, and sensor noise.

All randomness comes from a ``numpy.random.Generator``. Coordinates follow OpenCV's
warp convention: pixel (i, j) has its centre at (x=j, y=i).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.phone.homography import translation_matrix
from core.srgb import to_linear, to_srgb

MAX_SHIFT = 0.03
"""Largest translation of the plate's camera, as a fraction of each side."""

MAX_ROTATION = 2.0
"""Largest rotation of the plate's camera, in degrees."""

MAX_EV = 0.7
"""Largest exposure change of the plate, in stops."""

NOISE = (2.0 / 255.0, 5.0 / 255.0)
"""Range of the plate's Gaussian noise (standard deviation, sRGB units)."""

MARGIN = 0.1
"""How much wider than the frame the background photo is scaled (room for the moves)."""


@dataclass(frozen=True)
class Perturbation:
    """How the plate's camera differs: shift (dx, dy) in pixels, rotation in degrees,
    exposure in stops, noise standard deviation in sRGB units."""

    shift: tuple[float, float]
    rotation: float
    exposure: float
    noise: float


@dataclass(frozen=True)
class PlateCase:
    """One synthetic case.

    image: (H, W, 3) float32 RGB in [0, 1], the composite; alpha: (H, W) float32 in [0, 1],
    its true matte; plate: (H, W, 3) float32 RGB in [0, 1], the perturbed clean plate;
    background: (H, W, 3) float32, the true background behind the image;
    plate_to_image: (3, 3) float64 homography, plate pixels → image pixels (truth).
    """

    image: np.ndarray
    alpha: np.ndarray
    plate: np.ndarray
    background: np.ndarray
    plate_to_image: np.ndarray
    perturbation: Perturbation


def estimate_foreground(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Foreground colours of a matted photo, (H, W, 3) float32 in [0, 1] (pymatting's
    multi-level estimate, as the Composition-1k composites use)."""
    from pymatting import estimate_foreground_ml

    fg = estimate_foreground_ml(image.astype(np.float64), alpha.astype(np.float64))
    return np.clip(fg, 0.0, 1.0).astype(np.float32)


def background_canvas(photo: np.ndarray, size: tuple[int, int], *, margin: float = MARGIN) -> np.ndarray:
    """``photo`` scaled (aspect kept) and cropped to cover ``size`` = (H, W) grown by
    ``margin`` on each side. Returns (H', W', 3) float32 in [0, 1]."""
    h, w = size
    ch, cw = round(h * (1 + 2 * margin)), round(w * (1 + 2 * margin))
    scale = max(ch / photo.shape[0], cw / photo.shape[1])
    big = cv2.resize(photo, (max(cw, round(photo.shape[1] * scale)), max(ch, round(photo.shape[0] * scale))),
                     interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    top, left = (big.shape[0] - ch) // 2, (big.shape[1] - cw) // 2
    return np.clip(big[top:top + ch, left:left + cw], 0.0, 1.0)


def view_matrix(canvas: tuple[int, int], size: tuple[int, int], shift: tuple[float, float] = (0.0, 0.0),
                rotation: float = 0.0) -> np.ndarray:
    """(3, 3) float64: view pixels → canvas pixels for a camera at the canvas centre,
    rotated by ``rotation`` degrees and moved by ``shift`` = (dx, dy) pixels."""
    (ch, cw), (h, w) = canvas, size
    c, s = np.cos(np.radians(rotation)), np.sin(np.radians(rotation))
    to_centre = translation_matrix(-(w - 1) / 2, -(h - 1) / 2)
    turn = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], np.float64)
    place = translation_matrix((cw - 1) / 2 + shift[0], (ch - 1) / 2 + shift[1])
    return place @ turn @ to_centre


def camera_view(canvas: np.ndarray, view_to_canvas: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """What a camera sees of ``canvas``: (H, W, 3) float32, sampled through ``view_to_canvas``."""
    out = cv2.warpPerspective(canvas, view_to_canvas, (size[1], size[0]),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
    return np.clip(out, 0.0, 1.0, out=out)


def random_perturbation(rng: np.random.Generator, size: tuple[int, int]) -> Perturbation:
    """A handheld re-take: shift up to ``MAX_SHIFT`` of each side, rotation up to
    ``MAX_ROTATION``°, exposure ±0.2 to ±``MAX_EV`` stops, noise within ``NOISE``."""
    h, w = size
    shift = (float(rng.uniform(-MAX_SHIFT, MAX_SHIFT) * w), float(rng.uniform(-MAX_SHIFT, MAX_SHIFT) * h))
    exposure = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, MAX_EV))
    return Perturbation(shift, float(rng.uniform(-MAX_ROTATION, MAX_ROTATION)), exposure, float(rng.uniform(*NOISE)))


def retake(canvas: np.ndarray, size: tuple[int, int], p: Perturbation, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The plate: ``canvas`` seen by the moved camera, re-exposed and noisy.

    Returns (plate (H, W, 3) float32 in [0, 1], plate → image homography (3, 3))."""
    plate_to_canvas = view_matrix(canvas.shape[:2], size, p.shift, p.rotation)
    plate = camera_view(canvas, plate_to_canvas, size)
    plate = to_srgb(to_linear(plate) * np.float32(2.0 ** p.exposure))
    plate += rng.normal(0.0, p.noise, plate.shape).astype(np.float32)
    image_to_canvas = view_matrix(canvas.shape[:2], size)
    return np.clip(plate, 0.0, 1.0, out=plate), np.linalg.inv(image_to_canvas) @ plate_to_canvas


def plate_case(foreground: np.ndarray, alpha: np.ndarray, photo: np.ndarray, rng: np.random.Generator) -> PlateCase:
    """One composite and its perturbed plate.

    foreground: (H, W, 3) float32 in [0, 1]; alpha: (H, W) float32 in [0, 1]; photo: (h', w', 3)
    float32 in [0, 1], the new background (any size).
    """
    size = alpha.shape
    canvas = background_canvas(photo, size)
    background = camera_view(canvas, view_matrix(canvas.shape[:2], size), size)
    a = alpha[:, :, None]
    image = np.clip(a * foreground + (1.0 - a) * background, 0.0, 1.0).astype(np.float32)
    p = random_perturbation(rng, size)
    plate, plate_to_image = retake(canvas, size, p, rng)
    return PlateCase(image, alpha.astype(np.float32), plate, background, plate_to_image, p)
