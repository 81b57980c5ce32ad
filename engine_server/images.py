"""Image buffers on the wire ↔ core's arrays (the server's one conversion module).

Incoming buffers are raw 8-bit pixels ("rgba8", "rgb8", "grey8"), PNG or JPEG;
outgoing ones are encoded as the client asked: "raw" (grey8 / rgb8 / rgba8 by
content) or "png".
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.imageio import (
    RAW_CHANNELS,
    decode_image,
    decode_image_rgb8,
    encode_png,
    float_to_uint8,
    grey8_view,
    raw_to_grey,
    raw_to_image,
    raw_to_rgb8,
)


@dataclass(frozen=True)
class OutBuffer:
    """An encoded output: its name, wire format, size and bytes (a raw one: a flat uint8
    memoryview of the pixels, not a copy)."""

    name: str
    format: str
    width: int
    height: int
    data: bytes | memoryview
    within: tuple[int, int, int, int] | None = None  # grey8: this rectangle (x, y, full W, full H) of a larger image


def decode_rgb(data: bytes, fmt: str, width: int, height: int, *, max_pixels: int, name: str) -> np.ndarray:
    """A received buffer → (H, W, 3) float32 in [0, 1], RGB (a JPEG's EXIF orientation applied:
    the result may be ``width`` x ``height`` turned by 90°)."""
    if fmt in ("png", "jpeg"):
        return decode_image(bytes(data), name=name, max_pixels=max_pixels)
    return raw_to_image(data, width, height, fmt)


def decode_rgb8(data: bytes, fmt: str, width: int, height: int, *, max_pixels: int, name: str) -> np.ndarray:
    """A received buffer → (H, W, 3) uint8 RGB, without the float round trip (a phone's photo
    for locating; a JPEG's EXIF orientation applied)."""
    if fmt in ("png", "jpeg"):
        return decode_image_rgb8(bytes(data), name=name, max_pixels=max_pixels)
    return raw_to_rgb8(data, width, height, fmt)


def decode_grey(data: bytes, fmt: str, width: int, height: int, *, max_pixels: int, name: str,
                within: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """A received trimap or mask buffer → (H, W) uint8; a grey8 buffer ``within`` a larger image (x, y,
    full width, full height; the codec checked that it fits and that the full size is allowed) is placed
    in that image, 0 around it."""
    if within is not None:
        return placed(grey8_view(data, width, height), within)
    if fmt == "png":
        return float_to_uint8(decode_image(bytes(data), name=name, max_pixels=max_pixels).mean(axis=2))
    return raw_to_grey(data, width, height, fmt)


def placed(box: np.ndarray, within: tuple[int, int, int, int]) -> np.ndarray:
    """``box`` (h, w), any dtype, placed at (x, y) of a (full_height, full_width) array of zeros (False)."""
    x, y, full_width, full_height = within
    full = np.zeros((full_height, full_width), box.dtype)
    full[y:y + box.shape[0], x:x + box.shape[1]] = box
    return full


def encode_cropped(name: str, grey: np.ndarray) -> OutBuffer:
    """(H, W) uint8 → a raw grey8 :class:`OutBuffer` of only the box where ``grey`` is non-zero, placed
    by its ``within`` (all zero: its top-left pixel; a box that is the whole image: no ``within``)."""
    x, y, w, h = cv2.boundingRect(grey)  # of the non-zero pixels
    w, h = max(w, 1), max(h, 1)
    full_height, full_width = grey.shape
    if (w, h) == (full_width, full_height):  # the box is the whole image: sent as it is
        return encode(name, grey, "raw")
    box = np.ascontiguousarray(grey[y:y + h, x:x + w])
    return OutBuffer(name, "grey8", w, h, memoryview(box).cast("B"), within=(x, y, full_width, full_height))


def encode(name: str, pixels: np.ndarray, fmt: str) -> OutBuffer:
    """(H, W) or (H, W, 3|4) uint8 pixels → an :class:`OutBuffer` in "raw" or "png"."""
    h, w = pixels.shape[:2]
    if fmt == "png":
        return OutBuffer(name, "png", w, h, encode_png(pixels))
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    layout = {c: n for n, c in RAW_CHANNELS.items()}[channels]
    return OutBuffer(name, layout, w, h, memoryview(np.ascontiguousarray(pixels)).cast("B"))  # the pixels, no copy
