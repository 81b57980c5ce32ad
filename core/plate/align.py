"""Align a handheld clean plate to its photo: a homography, then a photometric match.

The plate is a second photo of the scene without the subject, taken by hand from
about the same spot: it is shifted, turned, maybe zoomed, and exposed differently.

1. Geometry: SIFT features of both photos (grey, ≤ 1024 px on the long side),
   matched with Lowe's ratio test, and a MAGSAC homography plate → image. The
   subject has no counterpart in the plate, so its features fall out as outliers.
2. The plate is warped into the image's frame; pixels it does not cover are
   marked invalid.
3. Photometry: per channel, a gain and a bias in linear light
   (``image ≈ gain · plate + bias``), fitted by least squares on pixels that are
   likely background, dropping outliers (the subject, moved things) over a few
   rounds.

Alignment fails with :class:`core.errors.AlignmentError`, saying why, when too few
features agree, the homography is not a plausible camera move, the plate covers
too little of the image, or the matched plate disagrees with most of the image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import AlignmentError, ParameterError
from core.phone.homography import frame_corners, local_scale, map_points, quad_is_convex_unflipped, scale_matrix
from core.imageio import float_to_uint8
from core.phone.locate import Features, features, fit_homography, match, shrink, to_grey
from core.srgb import to_linear, to_srgb

log = logging.getLogger(__name__)

MIN_INLIERS = 30
"""Fewest matched features the homography must explain."""

MIN_COVERAGE = 0.6
"""Smallest share of the image the warped plate must cover."""

MIN_AGREEMENT = 0.15
"""Smallest share of the covered image that the matched plate must reproduce (within
a few noise levels) for the alignment to count: a wrong plate reproduces almost none,
and the subject rarely hides more than 85 % of the background."""

SCALE_RANGE = (0.25, 4.0)
"""Plausible zoom between plate and image: image pixels per plate pixel, over what the two
photos' sizes alone would give."""


@dataclass(frozen=True)
class PlateAlignment:
    """How a plate was brought onto its image.

    homography: (3, 3) float64, plate pixels → image pixels (full sizes).
    inliers, matches: features the homography explains, of those matched.
    gain, bias: (3,) float64, per-channel linear-light match ``image ≈ gain · plate + bias``.
    coverage: share of the image the plate covers, in [0, 1].
    agreement: share of the covered pixels the matched plate reproduces, in [0, 1].
    noise: median colour distance |image − plate| on the background (both blurred a
        little, :func:`blurred_distance`), sRGB units in [0, √3].
    """

    homography: np.ndarray
    inliers: int
    matches: int
    gain: np.ndarray
    bias: np.ndarray
    coverage: float
    agreement: float
    noise: float

    def summary(self) -> dict:
        """JSON-friendly figures (for results and logs)."""
        return {
            "inliers": self.inliers,
            "matches": self.matches,
            "coverage": round(self.coverage, 4),
            "agreement": round(self.agreement, 4),
            "noise": round(self.noise, 5),
            "gain": [round(float(g), 4) for g in self.gain],
            "bias": [round(float(b), 5) for b in self.bias],
        }


@dataclass(frozen=True)
class PreparedPlate:
    """A clean plate with what aligning it to any image needs of it alone, computed once
    (:func:`prepare_plate`) for a plate used on many images (a video's frames, a batch).

    plate: (Hp, Wp, 3) float32 RGB in [0, 1]; features: SIFT features of its grey,
    shrunk to ``long_side``; to_small: (3, 3) float64, plate pixels → shrunk pixels.
    """

    plate: np.ndarray
    features: Features
    to_small: np.ndarray
    long_side: int


def prepare_plate(plate: np.ndarray, *, long_side: int = 1024) -> PreparedPlate:
    """``plate`` ((Hp, Wp, 3) float32 RGB in [0, 1]) with its features, for :func:`align_plate`."""
    if isinstance(plate, PreparedPlate):
        return plate
    if plate.ndim != 3 or plate.shape[2] != 3:
        raise ParameterError(f"plate: expected (H, W, 3) RGB; got {plate.shape}")
    small, to_small = shrink(to_grey(float_to_uint8(plate), name="plate"), long_side)
    return PreparedPlate(plate, features(small), to_small, long_side)


def plate_pixels(plate: np.ndarray | PreparedPlate) -> np.ndarray:
    """The plate's (Hp, Wp, 3) pixels, of a raw or a :class:`PreparedPlate` plate."""
    return plate.plate if isinstance(plate, PreparedPlate) else plate


def register(image: np.ndarray, plate: np.ndarray | PreparedPlate, *, long_side: int = 1024, ratio: float = 0.8,
             threshold: float = 2.5) -> tuple[np.ndarray, np.ndarray, int]:
    """Homography plate → image from SIFT matches.

    image: (H, W, 3), plate: (Hp, Wp, 3), float32 RGB in [0, 1] (sizes may differ), or a
    :class:`PreparedPlate` prepared with the same ``long_side``.

    Returns (homography (3, 3) float64 in full-size pixels, the inlier features' (x, y) in the
    image (N, 2) float64, the number of matches). Raises AlignmentError when too few features
    agree or the move is implausible.
    """
    small_i, to_small_i = shrink(to_grey(float_to_uint8(image), name="image"), long_side)
    prepared = prepare_plate(plate, long_side=long_side)
    if prepared.long_side != long_side:
        raise ParameterError(f"plate: prepared for long_side {prepared.long_side}, not {long_side}")
    to_small_p, plate = prepared.to_small, prepared.plate
    points_p, points_i = match(prepared.features, features(small_i), ratio=ratio)
    h_small, inliers, mask = fit_homography(points_p, points_i, threshold=threshold)
    if h_small is None or inliers < MIN_INLIERS:
        raise AlignmentError(
            f"the clean plate does not match the image: {inliers} of {len(points_p)} matched features agree "
            f"(at least {MIN_INLIERS} are needed). Take the plate from the same spot with the same framing, "
            "with the subject out of view"
        )
    homography = np.linalg.inv(to_small_i) @ h_small @ to_small_p
    homography /= homography[2, 2]
    hp, wp = plate.shape[:2]
    corners = map_points(homography, frame_corners(hp, wp))
    # zoom beyond the two photos' size ratio (a 12 MP plate for a 0.6 MP working image is 0.22 by size alone)
    zoom = local_scale(homography, (wp - 1) / 2, (hp - 1) / 2) * np.sqrt(hp * wp / (image.shape[0] * image.shape[1]))
    if not quad_is_convex_unflipped(corners) or not SCALE_RANGE[0] <= zoom <= SCALE_RANGE[1]:
        raise AlignmentError(
            "the clean plate does not match the image: the features that agree describe no plausible camera move "
            "(folded, mirrored or zoomed more than 4×). Take the plate from the same spot with the same framing"
        )
    return homography, map_points(np.linalg.inv(to_small_i), points_i[mask]), len(points_p)


def warp_plate(plate: np.ndarray, homography: np.ndarray, size: tuple[int, int],
               plate_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The plate seen through ``homography`` in a frame of ``size`` = (height, width).

    plate: (Hp, Wp, 3) float32 RGB in [0, 1]; homography: plate pixels → frame pixels;
    plate_mask: (Hp, Wp) bool, the plate's pixels that show the scene (None: all; an
    editor layer's transparent pixels do not). A plate much larger than the frame is
    area-shrunk first (no aliasing).

    Returns (warped (h, w, 3) float32 in [0, 1], valid (h, w) bool: pixels the plate covers,
    one pixel in from its border and from its masked-out pixels).
    """
    hp, wp = plate.shape[:2]
    inside = np.zeros((hp, wp), np.uint8)
    inside[1:-1, 1:-1] = 1
    if plate_mask is not None:
        inside &= cv2.erode(plate_mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    zoom = local_scale(homography, (wp - 1) / 2, (hp - 1) / 2)
    if zoom < 0.7:
        small = (max(1, round(wp * zoom)), max(1, round(hp * zoom)))
        plate = cv2.resize(plate, small, interpolation=cv2.INTER_AREA)
        inside = cv2.resize(inside, small, interpolation=cv2.INTER_NEAREST)
        homography = homography @ np.linalg.inv(scale_matrix(small[0] / wp, small[1] / hp))
    h, w = size
    warped = cv2.warpPerspective(plate, homography, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    valid = cv2.warpPerspective(inside, homography, (w, h), flags=cv2.INTER_NEAREST, borderValue=0) > 0
    return np.clip(warped, 0.0, 1.0, out=warped), valid


def fit_photometric(image: np.ndarray, warped: np.ndarray, sample: np.ndarray, *, rounds: int = 4,
                    max_samples: int = 200_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel gain and bias in linear light with ``image ≈ gain · warped + bias``.

    image, warped: (h, w, 3) float32 sRGB in [0, 1]; sample: (h, w) bool, pixels that are
    likely background. Clipped pixels are left out. The first fit is refitted on the half
    of the pixels it explains best (the sample may be half subject), later rounds keep
    residuals within 2.5 robust standard deviations.

    Returns (gain (3,), bias (3,)) float64. Raises AlignmentError when too few pixels remain.
    """
    usable = sample & (image.max(axis=2) < 0.99) & (warped.max(axis=2) < 0.99)
    usable &= (image.min(axis=2) > 0.01) & (warped.min(axis=2) > 0.01)
    idx = np.flatnonzero(usable)
    if idx.size < 500:
        raise AlignmentError("the clean plate shares too little unclipped background with the image to match exposure")
    if idx.size > max_samples:
        idx = np.random.default_rng(seed).choice(idx, max_samples, replace=False)
    x = to_linear(warped.reshape(-1, 3)[idx]).astype(np.float64)
    y = to_linear(image.reshape(-1, 3)[idx]).astype(np.float64)
    keep = np.ones(len(idx), bool)
    gain, bias = np.ones(3), np.zeros(3)
    for round_ in range(rounds + 1):
        for c in range(3):
            design = np.column_stack([x[keep, c], np.ones(int(keep.sum()))])
            (gain[c], bias[c]), *_ = np.linalg.lstsq(design, y[keep, c], rcond=None)
        residual = np.abs(y - (x * gain + bias)).max(axis=1)
        if round_ == 0:
            keep = residual <= np.median(residual)
        else:
            keep = residual < 2.5 * (1.4826 * np.median(residual[keep]) + 1e-6)
        if keep.sum() < 250:
            break
    return gain, bias


_CURVE_KNOTS = 4097


def apply_photometric(warped: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32 sRGB plate with ``gain · x + bias`` applied in linear light.

    Each channel's mapping is a fixed curve of its sRGB value, so it is tabulated at 4097
    points and looked up (nearest knot: within 3e-4 of the direct formula, a 10th of 8-bit's
    step, and several times faster at 12 MP).
    """
    knots = np.linspace(0.0, 1.0, _CURVE_KNOTS, dtype=np.float32)
    curves = np.concatenate([to_srgb(to_linear(knots) * np.float32(g) + np.float32(b)) for g, b in zip(gain, bias)])
    index = np.clip(warped, 0.0, 1.0) * np.float32(_CURVE_KNOTS - 1)
    index += np.float32(0.5)
    cells = index.astype(np.int32)
    cells += np.arange(3, dtype=np.int32) * _CURVE_KNOTS  # each channel its own curve
    return curves[cells]


def colour_distance(image: np.ndarray, background: np.ndarray) -> np.ndarray:
    """(h, w) float32 Euclidean RGB distance between two (h, w, 3) float32 images."""
    diff = image - background
    return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))


def _near_points(points: np.ndarray, size: tuple[int, int], radius: int) -> np.ndarray:
    """(h, w) bool: pixels within ``radius`` of any of the (N, 2) (x, y) ``points``."""
    h, w = size
    mask = np.zeros((h, w), np.uint8)
    xy = np.round(points).astype(np.int64)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    mask[xy[inside, 1], xy[inside, 0]] = 1
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)) > 0


def change_threshold(noise: float) -> float:
    """The :func:`blurred_distance` above which a pixel differs from the plate: three times the
    background's measured noise (its median blurred distance), plus 0.02 for rounding and
    sub-pixel misalignment. Alignment checks and the trimap both use it."""
    return 3.0 * noise + 0.02


def blurred_distance(image: np.ndarray, background: np.ndarray) -> np.ndarray:
    """(h, w) float32 colour distance of two (h, w, 3) float32 images, each blurred a little
    first (σ = 1 px: sensor noise and sub-pixel misalignment matter less)."""
    return colour_distance(cv2.GaussianBlur(image, (0, 0), 1.0), cv2.GaussianBlur(background, (0, 0), 1.0))


def refine_homography(image: np.ndarray, background: np.ndarray, homography: np.ndarray, agree: np.ndarray,
                      *, long_side: int = 1024, iterations: int = 60) -> np.ndarray:
    """Sub-pixel refinement of a plate → image homography by ECC image alignment
    (Evangelidis & Psarakis 2008) on the pixels where the warped plate already agrees.

    image, background: (h, w, 3) float32 in [0, 1], the photo and the plate warped through
    ``homography``; agree: (h, w) bool, pixels to align on (background). ECC is invariant to
    gain and bias, so exposure does not matter. Features concentrated in one part of the
    frame leave a homography a few pixels off at the far corners; this pulls it onto all the
    background. Returns the refined homography, or ``homography`` when ECC fails.
    """
    h, w = agree.shape
    f = min(1.0, long_side / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    grey = [cv2.resize(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA) for x in (image, background)]
    mask = (cv2.resize(agree.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0).astype(np.uint8)
    if mask.sum() < 1000:
        return homography
    warp = np.eye(3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-5)
    try:
        _, warp = cv2.findTransformECC(grey[0], grey[1], warp, cv2.MOTION_HOMOGRAPHY, criteria, mask, 5)
    except cv2.error as exc:
        log.debug("ECC refinement failed: %s", exc)
        return homography
    to_small = scale_matrix(size[0] / w, size[1] / h)
    residual = np.linalg.inv(to_small) @ warp.astype(np.float64) @ to_small  # image pixel → warped plate pixel
    corners = frame_corners(h, w)
    moved = np.linalg.norm(map_points(residual, corners) - corners, axis=1)
    if not np.all(np.isfinite(moved)) or moved.max() > 0.02 * max(h, w):  # ECC wandered off
        return homography
    refined = np.linalg.inv(residual) @ homography
    return refined / refined[2, 2]


def align_plate(image: np.ndarray, plate: np.ndarray | PreparedPlate, *,
                plate_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, PlateAlignment]:
    """Bring ``plate`` onto ``image``: geometry, then exposure.

    Parameters
    ----------
    image: (h, w, 3) float32 RGB in [0, 1], the photo (at the size to work at).
    plate: (Hp, Wp, 3) float32 RGB in [0, 1], the clean plate, any size, or the same
        prepared by :func:`prepare_plate` (for a plate aligned to many images).
    plate_mask: (Hp, Wp) bool, the plate's pixels that show the scene (None: all).

    The homography comes from features (:func:`register`) and is refined on all the
    background (:func:`refine_homography`). The exposure is fitted around the features the
    homography explains: they are background by construction (the subject is not in the plate).

    Returns
    -------
    background: (h, w, 3) float32 RGB in [0, 1], the plate as the image would show it.
    valid: (h, w) bool, pixels the plate covers.
    alignment: :class:`PlateAlignment`; its noise is measured on images blurred as by
        :func:`blurred_distance`.
    """
    prepared, plate = plate, plate_pixels(plate)
    if image.ndim != 3 or image.shape[2] != 3 or plate.ndim != 3 or plate.shape[2] != 3:
        raise ParameterError(f"image and plate: expected (H, W, 3) RGB; got {image.shape} and {plate.shape}")
    size = image.shape[:2]
    homography, points, matches = register(image, prepared)
    warped, valid = warp_plate(plate, homography, size, plate_mask)
    coverage = float(valid.mean())
    if coverage < MIN_COVERAGE:
        raise AlignmentError(
            f"the clean plate covers only {coverage:.0%} of the image once aligned (at least "
            f"{MIN_COVERAGE:.0%} is needed): take it from the same spot with the same framing"
        )
    sample = valid & _near_points(points, size, max(4, round(0.01 * np.sqrt(size[0] * size[1]))))
    gain, bias = fit_photometric(image, warped, sample)
    if not (np.all(gain > 0.2) and np.all(gain < 5.0)):
        raise AlignmentError(f"the clean plate's exposure cannot be matched to the image's (gain {np.round(gain, 2)})")
    background = apply_photometric(warped, gain, bias)
    distance = blurred_distance(image, background)
    noise = float(np.median(distance[sample]))
    homography = refine_homography(image, background, homography, valid & (distance < change_threshold(noise)))
    warped, valid = warp_plate(plate, homography, size, plate_mask)
    background = apply_photometric(warped, gain, bias)
    distance = blurred_distance(image, background)
    noise = float(np.median(distance[sample & valid]))
    agreement = float(np.mean(distance[valid] < change_threshold(noise)))
    log.debug("plate: %d/%d inliers, coverage %.3f, agreement %.3f, noise %.4f", len(points), matches, coverage,
              agreement, noise)
    if agreement < MIN_AGREEMENT:
        raise AlignmentError(
            f"the aligned clean plate matches only {agreement:.0%} of the image: the scene changed or "
            "the plate shows another place. Take the plate right after the photo, from the same spot"
        )
    return background, valid, PlateAlignment(homography, len(points), matches, gain, bias, coverage, agreement, noise)
