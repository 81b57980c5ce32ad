"""The clean plate from an image file: PNG and JPEG as they are (:func:`.wire.editor.plate_file`); any
other image Qt reads (BMP, TIFF, WebP… as this Krita's Qt allows) decoded here into rgba8. A plate
layer is read by :func:`.document.read_layer`.
"""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtGui import QImage, QImageReader

from . import pixels
from .wire.editor import plate_file, plate_pixels

FILE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"


class PlateError(Exception):
    """No clean plate can be sent: none chosen, or its file cannot be read."""


def from_file(path: str):
    """The image file at ``path`` as the plate buffer (png, jpeg, or rgba8 decoded by Qt).

    Raises :class:`PlateError`, saying why, when the file cannot be read or is not an image.
    """
    name = Path(path).name
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PlateError(f"the clean plate file '{name}' cannot be read ({exc.strerror or exc})") from None
    try:
        buffer = plate_file(data, f"'{name}'")
    except ValueError as exc:
        raise PlateError(str(exc)) from None
    if buffer is not None:
        return buffer
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        raise PlateError(f"the clean plate file '{name}' is not an image Softcut can read "
                         f"(PNG, JPEG or another format Krita's Qt reads): {reader.errorString()}")
    image = image.convertToFormat(QImage.Format_RGBA8888)  # straight alpha
    return plate_pixels(image.width(), image.height(), pixels.qimage_bytes(image))
