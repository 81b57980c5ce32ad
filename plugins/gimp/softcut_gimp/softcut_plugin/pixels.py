"""Byte layouts between GIMP buffers and the engine (pure Python, no GIMP).

Every image here is ``bytes``, row-major and top-down: ``grey8`` one byte a
pixel (0–255), ``rgb8`` three, ``rgba8`` four (R, G, B, A). Rectangles are
``(x, y, width, height)`` in canvas pixels.
"""

from __future__ import annotations

Rect = tuple  # (x, y, width, height)


def intersect(a: Rect, b: Rect) -> Rect:
    """The part of ``a`` inside ``b`` (width and height 0 when they do not meet)."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return left, top, max(right - left, 0), max(bottom - top, 0)


def crop(data: bytes, rect: Rect, part: Rect, bpp: int = 1) -> bytes:
    """The pixels of ``part`` (inside ``rect``) out of ``data``, an image covering ``rect``."""
    x0, y0, width = part[0] - rect[0], part[1] - rect[1], part[2]
    if x0 < 0 or y0 < 0 or x0 + width > rect[2] or y0 + part[3] > rect[3]:
        raise ValueError(f"crop: {part} is not inside {rect}")
    if len(data) != rect[2] * rect[3] * bpp:
        raise ValueError(f"crop: expected {rect[2] * rect[3] * bpp} bytes; got {len(data)}")
    if part[:3] == (rect[0], rect[1], rect[2]) or part[3] == 0:
        return bytes(data[y0 * width * bpp:(y0 + part[3]) * width * bpp])
    stride, row = rect[2] * bpp, width * bpp
    return b"".join(data[(y0 + r) * stride + x0 * bpp:(y0 + r) * stride + x0 * bpp + row] for r in range(part[3]))


def place(data: bytes, rect: Rect, canvas: Rect, bpp: int = 1) -> bytes:
    """An image covering ``canvas``: ``data`` (covering ``rect``) where they meet, zero bytes elsewhere."""
    inside = intersect(rect, canvas)
    piece = crop(data, rect, inside, bpp)
    if inside == tuple(canvas):
        return piece
    out = bytearray(canvas[2] * canvas[3] * bpp)
    x0, y0, row = inside[0] - canvas[0], inside[1] - canvas[1], inside[2] * bpp
    for r in range(inside[3]):
        start = ((y0 + r) * canvas[2] + x0) * bpp
        out[start:start + row] = piece[r * row:(r + 1) * row]
    return bytes(out)


def paste(base: bytes, base_rect: Rect, data: bytes, rect: Rect, bpp: int = 1) -> bytes:
    """``base`` (covering ``base_rect``) with ``data`` (covering ``rect``, inside ``base_rect``) written over it."""
    x0, y0, row = rect[0] - base_rect[0], rect[1] - base_rect[1], rect[2] * bpp
    if x0 < 0 or y0 < 0 or x0 + rect[2] > base_rect[2] or y0 + rect[3] > base_rect[3]:
        raise ValueError(f"paste: {rect} is not inside {base_rect}")
    if len(base) != base_rect[2] * base_rect[3] * bpp or len(data) != rect[2] * rect[3] * bpp:
        raise ValueError(f"paste: expected {base_rect[2] * base_rect[3] * bpp} and {rect[2] * rect[3] * bpp} bytes; "
                         f"got {len(base)} and {len(data)}")
    out = bytearray(base)
    for r in range(rect[3]):
        start = ((y0 + r) * base_rect[2] + x0) * bpp
        out[start:start + row] = data[r * row:(r + 1) * row]
    return bytes(out)


def rgba_opaque(rgb: bytes) -> bytes:
    """rgb8 → rgba8 with alpha 255 everywhere."""
    count = len(rgb) // 3
    if len(rgb) != 3 * count:
        raise ValueError(f"rgb8: length {len(rgb)} is not a multiple of 3")
    out = bytearray(b"\xff" * (4 * count))
    out[0::4] = rgb[0::3]
    out[1::4] = rgb[1::3]
    out[2::4] = rgb[2::3]
    return bytes(out)


def is_opaque(grey: bytes) -> bool:
    """True when every byte of a grey8 alpha is 255."""
    return not grey.strip(b"\xff")
