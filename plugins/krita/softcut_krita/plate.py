"""The clean plate of Select Subject with Clean Plate, from an image file: the engine's ``plate`` buffer.

PNG and JPEG files go to the engine as they are (it decodes them, a JPEG's EXIF
orientation applied); any other image Qt can read (BMP, TIFF, WebP… as far as this
Krita's Qt has the plug-ins) is decoded here into rgba8. A plate layer is read by
:func:`.document.read_layer`.
"""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtGui import QImage, QImageReader

from . import pixels
from .wire.client import jpeg_image, png_image, raw_image
from .wire.protocol.codec import PNG_SIGNATURE

PLATE = "plate"  # the buffer's name in plate_matte
FILE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"
JPEG_SIGNATURE = b"\xff\xd8\xff"


class PlateError(Exception):
    """No clean plate can be sent: none chosen, or its file cannot be read."""


def from_file(path: str):
    """The image file at ``path`` as a buffer named "plate" (png, jpeg, or rgba8 decoded by Qt).

    Raises :class:`PlateError`, saying why, when the file cannot be read or is not an image.
    """
    name = Path(path).name
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PlateError(f"the clean plate file '{name}' cannot be read ({exc.strerror or exc})") from None
    try:
        if data.startswith(PNG_SIGNATURE):
            return png_image(data, name=PLATE)
        if data.startswith(JPEG_SIGNATURE):
            return jpeg_image(data, name=PLATE)
    except ValueError as exc:
        raise PlateError(f"the clean plate file '{name}' is damaged ({exc})") from None
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        raise PlateError(f"the clean plate file '{name}' is not an image Softcut can read "
                         f"(PNG, JPEG or another format Krita's Qt reads): {reader.errorString()}")
    return from_qimage(image)


def from_qimage(image: QImage):
    """A QImage (any format) as an rgba8 buffer named "plate" (straight alpha)."""
    image = image.convertToFormat(QImage.Format_RGBA8888)
    return raw_image(image.width(), image.height(), "rgba8", pixels.qimage_bytes(image), name=PLATE)
