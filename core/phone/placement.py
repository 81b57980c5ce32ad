"""Where and how big a phone cut-out goes into a document: pure geometry on sizes and homographies.

Sizes are (width, height) in pixels; points (x, y) with pixel centres at integers;
homographies (3, 3) float64 (see :mod:`core.phone.homography`).

The size rule ("what the phone saw is what you get"): the cut-out covers the same share
of the paste photo's view as the subject covered of the cut photo's, so a subject that
filled half the cut photo fills half of the part of the document the phone was aimed at.
It is never enlarged beyond its own pixels and never larger than the document.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.errors import ParameterError
from core.phone.homography import local_scale, map_point, scale_matrix, translation_matrix
from core.phone.locate import Location, match_features, shrink, to_grey


def fit_scale(size: tuple[int, int], document: tuple[int, int]) -> float:
    """The largest factor ≤ 1 at which ``size`` fits inside ``document``."""
    return min(1.0, document[0] / size[0], document[1] / size[1])


def viewfinder_scale(photo_to_document: np.ndarray, photo_size: tuple[int, int],
                     cut_photo_size: tuple[int, int]) -> float:
    """Document pixels per cut-photo pixel, at the paste photo's centre.

    photo_to_document: paste photo pixels → document pixels; photo_size: the paste photo's
    size; cut_photo_size: the size of the photo the cut-out was cut from (the two photos'
    long sides are taken as the same field of view, whichever way the phone was held).
    """
    centre = ((photo_size[0] - 1) / 2, (photo_size[1] - 1) / 2)
    per_photo_pixel = local_scale(photo_to_document, *centre)
    return per_photo_pixel * max(photo_size) / max(cut_photo_size)


def paste_scale(size: tuple[int, int], document: tuple[int, int], *, view_scale: float | None = None) -> float:
    """The cut-out's scale factor: ``view_scale`` (see :func:`viewfinder_scale`; None: no
    location, keep its pixels), capped at 1 and at the document's size."""
    scale = fit_scale(size, document)
    if view_scale is not None and np.isfinite(view_scale) and view_scale > 0:
        scale = min(scale, view_scale)
    return scale


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``size`` times ``scale``, rounded, at least 1 × 1."""
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def top_left(centre: tuple[float, float], size: tuple[int, int]) -> tuple[int, int]:
    """Integer top-left of a ``size`` rectangle whose centre is at ``centre`` (document pixels)."""
    return round(centre[0] + 0.5 - size[0] / 2), round(centre[1] + 0.5 - size[1] / 2)


def rect_to_document(view: dict, document: tuple[int, int]) -> np.ndarray:
    """Screen pixels → document pixels, for a canvas showing the whole document in the
    screen rectangle ``view`` = {x, y, width, height} (unrotated, unmirrored)."""
    if view["width"] <= 0 or view["height"] <= 0:
        raise ParameterError(f"view: width and height must be positive; got {view}")
    # pixel edges line up: screen edge x0 ↔ document edge 0, i.e. centre s ↔ (s + 0.5 − x0)·f − 0.5:
    # the canvas rectangle's pixels, resized to the document
    to_canvas = translation_matrix(-view["x"], -view["y"])
    return scale_matrix(document[0] / view["width"], document[1] / view["height"]) @ to_canvas


def find_on_screen(screen: np.ndarray, snapshot: np.ndarray, *, long_side: int = 1600,
                   min_inliers: int = 12) -> np.ndarray | None:
    """Where an editor shows its document: snapshot pixels → screen pixels, or None.

    screen: (H, W, 3) uint8 RGB, a desktop screenshot; snapshot: (h, w, 3) uint8 RGB, the
    document as the editor displays it (any scale). Editors show a document zoomed and
    panned (rotated at most), never in perspective, so a similarity (4 degrees of freedom)
    is fitted to SIFT matches with RANSAC: far steadier away from the matches than a
    homography. Both images are matched at ≤ ``long_side`` pixels; None when fewer than
    ``min_inliers`` matches agree.
    """
    grey_screen, to_small_screen = shrink(to_grey(screen, name="screen"), long_side)
    grey_shot, to_small_shot = shrink(to_grey(snapshot, name="snapshot"), long_side)
    on_shot, on_screen = match_features(grey_shot, grey_screen, ratio=0.8)
    if len(on_shot) < min_inliers:
        return None
    similarity, inliers = cv2.estimateAffinePartial2D(on_shot, on_screen, method=cv2.RANSAC,
                                                      ransacReprojThreshold=2.0, maxIters=4000, confidence=0.999)
    if similarity is None or inliers is None or int(inliers.sum()) < min_inliers:
        return None
    small = np.vstack([similarity, [0.0, 0.0, 1.0]])
    if np.linalg.det(small[:2, :2]) <= 0:
        return None
    return np.linalg.inv(to_small_screen) @ small @ to_small_shot


def through(location: Location, to_target: np.ndarray) -> Location:
    """``location`` (in some reference's pixels) carried into another image's pixels by the
    homography ``to_target`` (reference → target); a location not found stays not found."""
    if location.x is None or location.y is None:
        return location
    x, y = map_point(to_target, location.x, location.y)
    if not (np.isfinite(x) and np.isfinite(y)):
        return Location(None, None, 0.0, location.matches, location.inliers, None)
    homography = None if location.homography is None else np.asarray(to_target, np.float64) @ location.homography
    return Location(x, y, location.confidence, location.matches, location.inliers, homography)


def resize_rgba(rgba: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a straight-alpha cut-out without dark or light fringes.

    rgba: (H, W, 4) uint8, straight alpha; size: (width, height).
    Returns (height, width, 4) uint8, straight alpha: colours are averaged weighted by
    alpha (premultiplied), area filter when shrinking, bilinear when growing.
    """
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ParameterError(f"rgba: expected (H, W, 4) uint8; got {rgba.shape} {rgba.dtype}")
    if (rgba.shape[1], rgba.shape[0]) == tuple(size):
        return rgba
    alpha = rgba[:, :, 3:].astype(np.float32) / 255.0
    premultiplied = np.concatenate([rgba[:, :, :3].astype(np.float32) * alpha, alpha * 255.0], axis=2)
    shrinking = size[0] * size[1] < rgba.shape[0] * rgba.shape[1]
    small = cv2.resize(premultiplied, tuple(size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    a = small[:, :, 3:]
    out = np.empty(small.shape, np.uint8)
    with np.errstate(divide="ignore", invalid="ignore"):
        colour = np.where(a > 0, small[:, :, :3] * 255.0 / np.maximum(a, 1e-6), 0.0)
    out[:, :, :3] = np.clip(np.rint(colour), 0, 255)
    out[:, :, 3] = np.clip(np.rint(a[:, :, 0]), 0, 255)
    return out
