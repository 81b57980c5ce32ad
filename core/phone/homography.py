"""Small geometry helpers for 3 × 3 plane homographies (points as (x, y), pixel centres at integers)."""

from __future__ import annotations

import numpy as np


def map_points(h_mat: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a homography to points.

    Parameters
    ----------
    h_mat: (3, 3) float64.
    points: (N, 2) float, (x, y) rows.

    Returns
    -------
    (N, 2) float64 mapped points; rows whose image lies at infinity come back as inf.
    """
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    v = np.column_stack([pts, np.ones(len(pts))]) @ np.asarray(h_mat, np.float64).T
    with np.errstate(divide="ignore", invalid="ignore"):
        out = v[:, :2] / v[:, 2:3]
    out[~np.isfinite(out)] = np.inf
    return out


def map_point(h_mat: np.ndarray, x: float, y: float) -> tuple[float, float]:
    """Apply a homography to one point (x, y); returns (x', y')."""
    (px, py), = map_points(h_mat, np.array([[x, y]]))
    return float(px), float(py)


def local_scale(h_mat: np.ndarray, x: float, y: float) -> float:
    """Linear magnification of the homography at (x, y): the square root of the absolute
    determinant of its Jacobian there (output pixels per input pixel)."""
    hx, hy, hw = np.asarray(h_mat, np.float64) @ np.array([x, y, 1.0])
    if abs(hw) < 1e-12:
        return float("inf")
    h = np.asarray(h_mat, np.float64)
    # d(x'/w)/dx = (h00 w - hx h20) / w², etc.
    j = np.array(
        [
            [h[0, 0] * hw - hx * h[2, 0], h[0, 1] * hw - hx * h[2, 1]],
            [h[1, 0] * hw - hy * h[2, 0], h[1, 1] * hw - hy * h[2, 1]],
        ]
    ) / hw**2
    return float(np.sqrt(abs(np.linalg.det(j))))


def frame_corners(height: int, width: int) -> np.ndarray:
    """(4, 2) float64 centres of an image's corner pixels as (x, y): top-left, top-right,
    bottom-right, bottom-left (the order :func:`quad_is_convex_unflipped` expects)."""
    return np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float64)


def quad_is_convex_unflipped(quad: np.ndarray) -> bool:
    """Whether the quadrilateral (4, 2) — corners in order top-left, top-right,
    bottom-right, bottom-left of an image (y down) — is convex, finite and keeps the
    image's orientation (not mirrored)."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    if not np.all(np.isfinite(q)):
        return False
    edges = np.roll(q, -1, axis=0) - q
    nxt = np.roll(edges, -1, axis=0)
    cross = edges[:, 0] * nxt[:, 1] - edges[:, 1] * nxt[:, 0]
    return bool(np.all(cross > 0))  # clockwise on screen (y down) = counter-clockwise maths = positive


def scale_matrix(fx: float, fy: float | None = None) -> np.ndarray:
    """(3, 3) homography of an image resize by ``fx`` across and ``fy`` (default ``fx``)
    down, in OpenCV's resize convention: new = (old + 0.5) · f − 0.5."""
    fx = float(fx)
    fy = fx if fy is None else float(fy)
    return np.array([[fx, 0.0, 0.5 * fx - 0.5], [0.0, fy, 0.5 * fy - 0.5], [0.0, 0.0, 1.0]])


def translation_matrix(dx: float, dy: float) -> np.ndarray:
    """(3, 3) homography moving points by (``dx``, ``dy``): x' = x + dx, y' = y + dy (e.g. full
    image pixels → the pixels of a crop whose top-left is (−dx, −dy))."""
    return np.array([[1.0, 0.0, float(dx)], [0.0, 1.0, float(dy)], [0.0, 0.0, 1.0]])
