"""Pixel buffers between Krita's layouts and the engine's (pure Python, no Krita).

Krita's RGBA/U8 pixels are stored B, G, R, A;
the engine speaks ``rgba8`` (R, G, B, A, 8 bits) and ``grey8``. Every function
takes and returns ``bytes`` of ``width * height`` pixels, row-major, top-down.
"""

from __future__ import annotations


def swap_red_blue(pixels: bytes) -> bytes:
    """BGRA8 ↔ RGBA8 (the same swap both ways): 4 bytes a pixel."""
    out = bytearray(pixels)
    out[0::4] = pixels[2::4]
    out[2::4] = pixels[0::4]
    return bytes(out)


def bgra_with_alpha(rgb: bytes, alpha: bytes | None = None) -> bytes:
    """RGB8 colours (3 bytes a pixel) and a grey8 alpha (opaque when None) → BGRA8."""
    count = len(rgb) // 3
    if alpha is not None and len(alpha) != count:
        raise ValueError(f"alpha: expected {count} bytes; got {len(alpha)}")
    out = bytearray(4 * count)
    out[0::4] = rgb[2::3]
    out[1::4] = rgb[1::3]
    out[2::4] = rgb[0::3]
    out[3::4] = alpha if alpha is not None else b"\xff" * count
    return bytes(out)


def clip_rect(x: int, y: int, width: int, height: int, canvas_width: int, canvas_height: int) -> tuple[int, int, int, int]:
    """The part of a rectangle inside the canvas (``(x, y, 0, 0)`` when they do not meet)."""
    left, top = max(x, 0), max(y, 0)
    right, bottom = min(x + width, canvas_width), min(y + height, canvas_height)
    return left, top, max(right - left, 0), max(bottom - top, 0)


def packed_rows(data: bytes, stride: int, row_bytes: int, height: int) -> bytes:
    """``height`` rows of ``row_bytes`` bytes each, taken from ``data`` whose rows start every ``stride``
    bytes (Qt pads each row of a QImage to 4 bytes)."""
    if stride < row_bytes or len(data) < stride * (height - 1) + row_bytes:
        raise ValueError(f"data: expected {height} rows of {row_bytes} bytes every {stride} bytes; "
                         f"got {len(data)} bytes")
    if stride == row_bytes:
        return bytes(data[:row_bytes * height])
    return b"".join(data[y * stride:y * stride + row_bytes] for y in range(height))


def qimage_bytes(image) -> bytes:
    """A QImage's pixels (``image.depth()`` bits each: RGB888 gives rgb8, RGBA8888 rgba8) without Qt's row padding."""
    bits = image.constBits()
    bits.setsize(image.bytesPerLine() * image.height())
    return packed_rows(bytes(bits), image.bytesPerLine(), image.width() * image.depth() // 8, image.height())
