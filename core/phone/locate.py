"""Find which document pixel a phone photo of the screen points at.

The phone cut & paste feature: the user aims the phone at the spot of the document where
the cut-out should go and takes a photo. :func:`locate` matches the photo against the
document image (the composite as displayed, or a screenshot of the desktop: any reference
image works) and maps the photo's centre into the reference's pixels.

Method, coarse to fine:

1. grey, area-downscaled images (photo ≤ 1024 px, reference ≤ 1024 px on the long side);
   SIFT features with a low contrast threshold (glare and gamma flatten screen photos),
   brute-force matching with Lowe's ratio test made one-to-one, a MAGSAC homography
   photo → reference. When that finds few inliers, central crops of the photo (½, ¼ of
   each side: more photo pixels on a small document) and, for large references, a
   2048 px reference are tried too, and the attempt with most inliers wins;
2. sanity: the box around the inliers and the photo's centre must map to a convex,
   unmirrored quadrilateral, the scale must be sane, and the centre must land on (or
   just beside) the reference;
3. refinement: around the centre the photo is rectified into the reference's frame at
   the finer of the two resolutions, SIFT is matched again between the two small patches
   and the residual homography corrects the centre (repeated while it moves).

Coordinates: pixel (i, j) has its centre at (x=j, y=i).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import ParameterError
from core.phone.homography import (local_scale, map_point, map_points, quad_is_convex_unflipped, scale_matrix,
                             translation_matrix)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Location:
    """Where the photo's centre points in the reference image.

    x, y: reference pixels (pixel centres at integers), or None when not located.
    confidence: in [0, 1]; below :attr:`LocateOptions.min_confidence` x and y are None.
    matches: ratio-test matches of the coarse pass.
    inliers: matches consistent with the final homography.
    homography: (3, 3) float64, photo pixels → reference pixels, or None.
    """

    x: float | None
    y: float | None
    confidence: float
    matches: int
    inliers: int
    homography: np.ndarray | None = None


@dataclass(frozen=True)
class LocateOptions:
    """Tunables of :func:`locate`."""

    photo_side: int = 1024
    """Long side of the photo for the coarse pass, pixels."""
    reference_side: int = 1024
    """Long side of the reference for the coarse pass (smaller references are kept as they are)."""
    max_features: int = 3000
    """Keep the strongest this many features per image in the coarse pass (0: all)."""
    contrast: float = 0.02
    """SIFT contrast threshold (OpenCV's default 0.04 misses most features under glare)."""
    ratio: float = 0.8
    """Lowe's ratio test: keep a match when best < ratio · second best distance."""
    ransac_px: float = 3.0
    """Reprojection threshold of the coarse homography, in coarse reference pixels."""
    min_inliers: int = 8
    """Fewer coarse inliers than this: that attempt failed."""
    enough_inliers: int = 30
    """Stop trying further crops and reference sizes once an attempt has this many inliers."""
    max_scale_ratio: float = 40.0
    """Reject homographies whose local scale at the centre is beyond 1/40 … 40 (coarse pixels)."""
    outside_margin: float = 0.05
    """A centre farther outside the reference than this fraction of its diagonal: not located."""
    crops: tuple[float, ...] = (1.0, 0.5, 0.25)
    """Central crops of the photo (fraction of each side) tried in turn until one locates:
    a small document on a far screen needs the photo's full resolution near its centre."""
    refine: bool = True
    """Run the local refinement pass."""
    patch: int = 320
    """Side of the refinement patches, pixels."""
    min_confidence: float = 0.4
    """Below this confidence: not located."""


def to_grey(image: np.ndarray, *, name: str) -> np.ndarray:
    """(H, W, 3) RGB or (H, W, 4) RGBA (alpha ignored) or (H, W) uint8 → (H, W) uint8 grey."""
    if image.dtype != np.uint8:
        raise ParameterError(f"{name}: expected uint8 pixels, got {image.dtype}")
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ParameterError(f"{name}: expected (H, W, 3) or (H, W, 4), got shape {image.shape}")
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


def shrink(grey: np.ndarray, long_side: int) -> tuple[np.ndarray, np.ndarray]:
    """Downscale (area filter) so the long side is at most ``long_side``.

    Parameters
    ----------
    grey: (H, W) uint8.

    Returns
    -------
    small: (h, w) uint8 (``grey`` itself when already small enough).
    to_small: (3, 3) float64 homography, ``grey`` pixels → ``small`` pixels.
    """
    h, w = grey.shape
    f = long_side / max(h, w)
    if f >= 1.0:
        return grey, np.eye(3)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA), scale_matrix(size[0] / w, size[1] / h)


def _detector(max_features: int, contrast: float):
    if hasattr(cv2, "SIFT_create"):
        return cv2.SIFT_create(nfeatures=max_features, contrastThreshold=contrast), cv2.NORM_L2
    return cv2.ORB_create(nfeatures=max_features or 3000), cv2.NORM_HAMMING


@dataclass(frozen=True)
class Features:
    """Keypoints of one grey image: points (N, 2) float32 (x, y); descriptors (N, D)
    (float32 for SIFT, uint8 for ORB) or None when N = 0; norm: the OpenCV norm to compare them."""

    points: np.ndarray
    descriptors: np.ndarray | None
    norm: int


def features(grey: np.ndarray, *, max_features: int = 0, contrast: float = 0.02) -> Features:
    """SIFT features (ORB when OpenCV lacks SIFT) of an (H, W) uint8 grey image.

    ``max_features``: keep the strongest this many (0: all). ``contrast``: SIFT's contrast
    threshold (OpenCV's default is 0.04; photos of screens have little contrast under glare).
    """
    detector, norm = _detector(max_features, contrast)
    keypoints, descriptors = detector.detectAndCompute(grey, None)
    if descriptors is None or not keypoints:
        return Features(np.zeros((0, 2), np.float32), None, norm)
    return Features(np.float32([k.pt for k in keypoints]), descriptors, norm)


def match(a: Features, b: Features, *, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Match features a → b by brute force: Lowe's ratio test, then one-to-one (when
    several points of ``a`` pick the same point of ``b`` only the closest stays, so
    repeated patterns cannot pile up on one point).

    Returns
    -------
    points_a, points_b: (N, 2) float32, (x, y) of the N matched pairs.
    """
    empty = np.zeros((0, 2), np.float32)
    if a.descriptors is None or b.descriptors is None or len(a.points) < 1 or len(b.points) < 2:
        return empty, empty
    pairs = cv2.BFMatcher(a.norm).knnMatch(a.descriptors, b.descriptors, k=2)
    best: dict[int, cv2.DMatch] = {}
    for p in pairs:
        if len(p) == 2 and p[0].distance < ratio * p[1].distance:
            m = p[0]
            if m.trainIdx not in best or m.distance < best[m.trainIdx].distance:
                best[m.trainIdx] = m
    if not best:
        return empty, empty
    good = list(best.values())
    return a.points[[m.queryIdx for m in good]], b.points[[m.trainIdx for m in good]]


def match_features(grey_a: np.ndarray, grey_b: np.ndarray, *, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Features of two (H, W) uint8 grey images, matched a → b (see :func:`match`)."""
    return match(features(grey_a), features(grey_b), ratio=ratio)


def fit_homography(
    points_a: np.ndarray, points_b: np.ndarray, *, threshold: float
) -> tuple[np.ndarray | None, int, np.ndarray]:
    """Robust homography a → b (MAGSAC) from matched (N, 2) points.

    Returns (H (3, 3) float64 or None, inlier count, (N,) bool inlier mask).
    """
    none = np.zeros(len(points_a), bool)
    if len(points_a) < 4:
        return None, 0, none
    h_mat, mask = cv2.findHomography(points_a, points_b, cv2.USAC_MAGSAC, threshold, maxIters=5000, confidence=0.999)
    if h_mat is None or mask is None:
        return None, 0, none
    mask = mask.ravel().astype(bool)
    return h_mat, int(mask.sum()), mask


def locate(document: np.ndarray, photo: np.ndarray, *, options: LocateOptions = LocateOptions()) -> Location:
    """Find the reference pixel shown at the centre of a photo of the screen.

    Parameters
    ----------
    document: (H, W, 3) uint8 RGB or (H, W, 4) uint8 RGBA (alpha ignored): the document
        composite as displayed, or a screenshot; any size.
    photo: (h, w, 3) uint8 RGB: the phone photo, upright (EXIF orientation applied), any size.
    options: tunables.

    Returns
    -------
    Location: x, y in document pixels, or None when the photo cannot be placed.
    """
    ref = to_grey(document, name="document")
    shot = to_grey(photo, name="photo")
    ph, pw = shot.shape
    rh, rw = ref.shape
    cx, cy = (pw - 1) / 2.0, (ph - 1) / 2.0
    best = Coarse(None, 0, 0)
    crops: dict[float, tuple[Features, np.ndarray]] = {}  # the photo's side, the same for every reference size
    for side in _reference_sides(ref.shape, options):
        ref_small, ref_to_small = shrink(ref, side)
        ref_features = features(ref_small, max_features=options.max_features, contrast=options.contrast)
        for crop in options.crops:
            if crop not in crops:
                crops[crop] = crop_features(shot, crop=crop, options=options)
            found = coarse_homography(ref_features, *crops[crop], (cx, cy), crop=crop, options=options)
            if found.homography is not None:
                found = Coarse(
                    np.linalg.inv(ref_to_small) @ found.homography, found.matches, found.inliers, 1.0 / ref_to_small[0, 0]
                )
            # an attempt with a homography beats one without; then more inliers win
            if (found.homography is not None, found.inliers) > (best.homography is not None, best.inliers):
                best = found
            if best.inliers >= options.enough_inliers:
                break
        if best.inliers >= options.enough_inliers:
            break
    if best.homography is None:
        return Location(None, None, 0.0, best.matches, best.inliers)
    h_full, inliers = best.homography, best.inliers
    if options.refine:
        # the coarse pass is good to about its RANSAC threshold: larger corrections are mismatches
        max_shift = 2.5 * options.ransac_px * best.reference_pixel
        h_full, local = refine_homography(ref, shot, h_full, patch=options.patch, max_shift=max_shift)
        inliers = max(inliers, local)
    x, y = map_point(h_full, cx, cy)
    diag = float(np.hypot(rw, rh))
    outside = max(-0.5 - x, x - (rw - 0.5), -0.5 - y, y - (rh - 0.5), 0.0)
    confidence = inlier_confidence(inliers)
    if not np.isfinite(outside) or outside > options.outside_margin * diag:
        log.info("locate: centre (%.0f, %.0f) is outside the %d×%d reference", x, y, rw, rh)
        confidence = 0.0
    if confidence < options.min_confidence:
        return Location(None, None, confidence, best.matches, inliers, h_full)
    return Location(x, y, confidence, best.matches, inliers, h_full)


def _reference_sides(shape: tuple[int, int], options: LocateOptions) -> list[int]:
    """Long sides to shrink the reference to, coarse first; the finer one only for
    references much larger than the coarse side (a zoomed-in view of a big document)."""
    sides = [options.reference_side]
    if max(shape) > 1.5 * options.reference_side:
        sides.append(min(max(shape), 2 * options.reference_side))
    return sides


@dataclass(frozen=True)
class Coarse:
    """One coarse attempt: the homography from full-photo pixels to the pixels of the
    reference it was matched against (None: failed), ratio-test matches, MAGSAC inliers."""

    homography: np.ndarray | None
    matches: int
    inliers: int
    reference_pixel: float = 1.0
    """Size of one pixel of the reference it was matched against, in full reference pixels."""


def crop_features(shot: np.ndarray, *, crop: float, options: LocateOptions) -> tuple[Features, np.ndarray]:
    """Features of the centred ``crop`` fraction (per side) of the photo, shrunk to ``options.photo_side``.

    Parameters
    ----------
    shot: (h, w) uint8 grey photo.

    Returns
    -------
    features, and to_small: (3, 3) float64 homography, full-photo pixels → the shrunk crop's pixels.
    """
    ph, pw = shot.shape
    cw, ch = max(2, round(pw * crop)), max(2, round(ph * crop))
    x0, y0 = (pw - cw) // 2, (ph - ch) // 2
    small, to_small = shrink(shot[y0 : y0 + ch, x0 : x0 + cw], options.photo_side)
    to_small = to_small @ translation_matrix(-x0, -y0)
    return features(small, max_features=options.max_features, contrast=options.contrast), to_small


def coarse_homography(
    ref_features: Features,
    shot_features: Features,
    to_small: np.ndarray,
    centre: tuple[float, float],
    *,
    crop: float,
    options: LocateOptions,
) -> Coarse:
    """Match a crop of the photo (see :func:`crop_features`) against the reference's features.

    Parameters
    ----------
    ref_features: features of the shrunk reference.
    shot_features, to_small: what :func:`crop_features` returned for ``crop``.
    centre: the photo's centre, full-photo pixels.

    Returns
    -------
    Coarse, whose homography maps full-photo pixels to shrunk-reference pixels; None when
    there are too few inliers or the geometry is not plausible.
    """
    pa, pb = match(shot_features, ref_features, ratio=options.ratio)
    h_small, inliers, mask = fit_homography(pa, pb, threshold=options.ransac_px)
    if h_small is None or inliers < options.min_inliers:
        return Coarse(None, len(pa), inliers)
    centre = map_point(to_small, *centre)
    if not _sane(h_small, pa[mask], centre, options):
        log.info("locate: implausible homography (%d inliers, crop %.2f)", inliers, crop)
        return Coarse(None, len(pa), inliers)
    return Coarse(h_small @ to_small, len(pa), inliers)


def inlier_confidence(inliers: int) -> float:
    """Confidence in [0, 1) from the number of geometrically consistent matches: 0 up to 6
    (what unrelated images reach by chance), about 0.5 at 10, 0.8 at 15, 0.96 at 25."""
    return float(1.0 - np.exp(-max(0, inliers - 6) / 6.0))


def _sane(h_mat: np.ndarray, inlier_points: np.ndarray, centre: tuple[float, float], options: LocateOptions) -> bool:
    """The box around the inliers and the centre (photo pixels) maps to a convex,
    unmirrored quadrilateral, and the scale at the centre is within bounds."""
    pts = np.vstack([inlier_points, [centre]])
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    if min(x1 - x0, y1 - y0) < 4 or not quad_is_convex_unflipped(map_points(h_mat, box)):
        return False
    s = local_scale(h_mat, *centre)
    return 1.0 / options.max_scale_ratio < s < options.max_scale_ratio


def refine_homography(
    ref: np.ndarray, shot: np.ndarray, h_mat: np.ndarray, *, patch: int, max_shift: float, rounds: int = 2
) -> tuple[np.ndarray, int]:
    """Correct a photo → reference homography near the photo's centre.

    A ``patch`` × ``patch`` window of the reference around the mapped centre and the
    photo rectified into the same window (through ``h_mat``) are compared at the finer
    of the two images' resolutions; SIFT matches between the two patches give a residual
    homography that is folded into ``h_mat``.

    Parameters
    ----------
    ref: (H, W) uint8 grey reference. shot: (h, w) uint8 grey photo.
    h_mat: (3, 3) float64, photo pixels → reference pixels.
    max_shift: largest accepted move of the centre, reference pixels (bigger: a mismatch,
        e.g. the document's border matched against the canvas edge).

    Returns
    -------
    (3, 3) float64 refined homography (``h_mat`` itself when the patches do not agree), and
    the number of inlier matches between the patches in the last round that agreed (0: none).
    """
    ph, pw = shot.shape
    cx, cy = (pw - 1) / 2.0, (ph - 1) / 2.0
    agreed = 0
    for _ in range(rounds):
        x, y = map_point(h_mat, cx, cy)
        m = local_scale(h_mat, cx, cy)  # reference pixels per photo pixel
        if not np.isfinite(m) or m <= 0:
            return h_mat, agreed
        ws = min(1.0, 1.0 / m)  # patch pixels per reference pixel
        half = (patch - 1) / 2.0
        # patch → reference: (u, v) ↦ (x + (u − half) / ws, y + (v − half) / ws)
        to_ref = np.array([[1 / ws, 0, x - half / ws], [0, 1 / ws, y - half / ws], [0, 0, 1.0]])
        ref_patch = sample(ref, to_ref, patch)
        shot_patch = sample(shot, np.linalg.inv(h_mat) @ to_ref, patch)
        pa, pb = match_features(shot_patch, ref_patch, ratio=0.8)
        g, inliers, _ = fit_homography(pa, pb, threshold=2.0)
        if g is None or inliers < 12:
            return h_mat, agreed
        centre = np.array([[half, half]])
        moved = map_points(g, centre)[0] - centre[0]
        if not np.all(np.isfinite(moved)) or np.hypot(*moved) > max(2.0, max_shift * ws):
            return h_mat, agreed
        h_mat = to_ref @ g @ np.linalg.inv(to_ref) @ h_mat
        agreed = inliers
        if np.hypot(*moved) < 0.5:
            break
    return h_mat, agreed


def sample(grey: np.ndarray, to_source: np.ndarray, size: int) -> np.ndarray:
    """Resample a ``size`` × ``size`` patch of a grey image.

    Parameters
    ----------
    grey: (H, W) uint8.
    to_source: (3, 3) homography, patch pixels → ``grey`` pixels.

    Returns
    -------
    (size, size) uint8; pixels falling outside ``grey`` are 0. When the patch is coarser
    than the source, the source is low-passed first (no aliasing).
    """
    corners = np.array([[-1, -1], [size, -1], [size, size], [-1, size]], np.float64)
    quad = map_points(to_source, corners)
    if not np.all(np.isfinite(quad)):
        return np.zeros((size, size), np.uint8)
    h, w = grey.shape
    spread = local_scale(to_source, size / 2.0, size / 2.0)  # source pixels per patch pixel
    pad = int(np.ceil(2 * spread)) + 2
    x0 = int(np.clip(np.floor(quad[:, 0].min()) - pad, 0, w))
    x1 = int(np.clip(np.ceil(quad[:, 0].max()) + pad, 0, w))
    y0 = int(np.clip(np.floor(quad[:, 1].min()) - pad, 0, h))
    y1 = int(np.clip(np.ceil(quad[:, 1].max()) + pad, 0, h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((size, size), np.uint8)
    crop = grey[y0:y1, x0:x1]
    m = translation_matrix(-x0, -y0) @ to_source
    if spread > 1.5:  # shrink by an area filter first, then warp the small crop
        f = 1.0 / spread
        small = cv2.resize(crop, (max(2, round(crop.shape[1] * f)), max(2, round(crop.shape[0] * f))), interpolation=cv2.INTER_AREA)
        m = scale_matrix(small.shape[1] / crop.shape[1], small.shape[0] / crop.shape[0]) @ m
        crop = small
    return cv2.warpPerspective(crop, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0)
