"""A contact sheet of soft layers: the input, then each layer over a checkerboard."""

from __future__ import annotations

import cv2
import numpy as np

from core.imageio import float_to_uint8
from core.segments.types import SoftSegments

_GAP = 4  # px between tiles


def preview_sheet(image: np.ndarray, segments: SoftSegments, *, tile: int = 320, columns: int = 3) -> np.ndarray:
    """Input and layers side by side, each layer's colours composited over a checkerboard.

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB.
    segments : its soft segments (K layers).
    tile : long side of each tile in pixels.
    columns : tiles per row.

    Returns
    -------
    sheet : (h, w, 3) uint8 RGB, white background; tiles in reading order:
        the input, then layers 0..K-1 (largest first).
    """
    h, w = image.shape[:2]
    scale = tile / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    board = _checkerboard(size[1], size[0])
    tiles = [cv2.resize(image, size, interpolation=shrink)]
    for alpha, colors in zip(segments.alphas, segments.colors):
        a = cv2.resize(alpha, size, interpolation=shrink)[..., None]
        tiles.append(a * cv2.resize(colors, size, interpolation=shrink) + (1 - a) * board)
    rows = -(-len(tiles) // columns)
    sheet = np.ones((rows * (size[1] + _GAP) - _GAP, columns * (size[0] + _GAP) - _GAP, 3), np.float32)
    for i, t in enumerate(tiles):
        y, x = (i // columns) * (size[1] + _GAP), (i % columns) * (size[0] + _GAP)
        sheet[y : y + size[1], x : x + size[0]] = t
    return float_to_uint8(sheet)


def _checkerboard(h: int, w: int, cell: int = 8) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    light = ((yy // cell + xx // cell) % 2).astype(np.float32)
    return np.repeat((0.6 + 0.2 * light)[..., None], 3, axis=2)
