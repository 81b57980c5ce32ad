"""The clean plate's ``plate`` buffer: a PNG or JPEG file as it is (the engine decodes it, turned
by its EXIF orientation), else rgba8 pixels the editor decoded or read from a layer."""

from __future__ import annotations

from ..client import jpeg_image, png_image, raw_image
from ..protocol.codec import PNG_SIGNATURE
from ..protocol.messages import Buffer

PLATE = "plate"
JPEG_SIGNATURE = b"\xff\xd8\xff"


def plate_file(data: bytes, name: str) -> Buffer | None:
    """A PNG or JPEG file's bytes as the plate; None for another file (the editor decodes it).
    Raises :class:`ValueError` saying so when a PNG or JPEG file is damaged (``name``: quoted)."""
    try:
        if data.startswith(PNG_SIGNATURE):
            return png_image(data, name=PLATE)
        if data.startswith(JPEG_SIGNATURE):
            return jpeg_image(data, name=PLATE)
    except ValueError as exc:
        raise ValueError(f"the clean plate file {name} is damaged ({exc})") from None
    return None


def plate_pixels(width: int, height: int, rgba: bytes) -> Buffer:
    """The plate as rgba8 pixels (straight alpha), ``width`` × ``height``."""
    return raw_image(width, height, "rgba8", rgba, name=PLATE)
