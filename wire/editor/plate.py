"""The clean plate of Select Subject with Clean Plate: the ``plate`` buffer of ``plate_matte``.

A PNG or JPEG file goes to the engine as it is (it decodes it, turning a JPEG by its EXIF
orientation); any other file the editor decodes itself into rgba8 (:func:`plate_pixels`),
as it does a layer read whole.
"""

from __future__ import annotations

from ..client import jpeg_image, png_image, raw_image
from ..protocol.codec import PNG_SIGNATURE
from ..protocol.messages import Buffer

PLATE = "plate"
"""The buffer's name in plate_matte."""
JPEG_SIGNATURE = b"\xff\xd8\xff"


def plate_file(data: bytes, name: str) -> Buffer | None:
    """The file's bytes as the plate buffer when it is a PNG or JPEG file; None for any other
    file (the editor decodes it). ``name``: the file as the message names it, quoted.

    Raises :class:`ValueError` saying so when a PNG or JPEG file is damaged.
    """
    try:
        if data.startswith(PNG_SIGNATURE):
            return png_image(data, name=PLATE)
        if data.startswith(JPEG_SIGNATURE):
            return jpeg_image(data, name=PLATE)
    except ValueError as exc:
        raise ValueError(f"the clean plate file {name} is damaged ({exc})") from None
    return None


def plate_pixels(width: int, height: int, rgba: bytes) -> Buffer:
    """A plate the editor decoded or read from a layer: rgba8, straight alpha, ``width`` × ``height``."""
    return raw_image(width, height, "rgba8", rgba, name=PLATE)
