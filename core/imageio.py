"""The one place where files and bytes become images and images become files.

Core works on one internal format:
    image: (H, W, 3) float32 in [0, 1], RGB
    alpha: (H, W) float32 in [0, 1]
Everything else (8/16-bit, grey, palette, RGBA, CMYK, EXIF orientation) is
converted here.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ImageDecodeError, ImageTooLargeError, ParameterError, StorageError

DEFAULT_MAX_PIXELS = 100_000_000
"""Largest image (width × height) decoded by default: 100 megapixels."""

_TIFF_BITS_PER_SAMPLE = 258


def load_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file into the internal format.

    Parameters
    ----------
    path:
        PNG, JPEG (EXIF orientation applied, CMYK converted), WebP, TIFF (8 or
        16 bits), grey, palette or RGBA (any existing alpha is ignored).
    max_pixels:
        Images with more pixels are refused from their header, before decoding.

    Returns
    -------
    image: (H, W, 3) float32 in [0, 1], RGB.

    Raises
    ------
    ImageDecodeError: the file is missing, empty, truncated, corrupt or not an image.
    ImageTooLargeError: the header announces more than ``max_pixels`` pixels.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageDecodeError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    return decode_image(data, name=str(path), max_pixels=max_pixels)


def decode_image(data: bytes, *, name: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an encoded image (PNG, JPEG, WebP, TIFF, ...) held in memory.

    Same conversions and errors as :func:`load_image`; ``name`` is used in messages.

    Returns
    -------
    image: (H, W, 3) float32 in [0, 1], RGB.
    """
    return _decode(data, name=name, max_pixels=max_pixels, rgb8=False)


def decode_image_rgb8(data: bytes, *, name: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """:func:`decode_image` as (H, W, 3) uint8 RGB, without the float round trip for 8-bit files
    (a phone's photo for locating). Same conversions and errors."""
    return _decode(data, name=name, max_pixels=max_pixels, rgb8=True)


def _before_opening(data: bytes, name: str, max_pixels: int) -> None:
    """Refuse empty ``data``, and let Pillow open images up to ``max_pixels`` (our limit is the one that applies)."""
    if not data:
        raise ImageDecodeError(f"{name}: empty file, not an image")
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels


def _decode(data: bytes, *, name: str, max_pixels: int, rgb8: bool) -> np.ndarray:
    _before_opening(data, name, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            pil = Image.open(io.BytesIO(data))
            width, height = pil.size
            check_pixel_count(width, height, name=name, max_pixels=max_pixels)
            if _is_16bit_colour_tiff(pil):
                image = _decode_16bit_with_opencv(data, name=name)
                return float_to_uint8(image) if rgb8 else image
            pil.load()
            pil = ImageOps.exif_transpose(pil)
            if pil.mode not in (*_GREY16_MODES, "F"):  # 8-bit samples: no float round trip
                pixels = np.asarray(pil if pil.mode == "RGB" else pil.convert("RGB"))
                pil.close()  # Pillow's own copy (4 B/px) goes before the float image (12 B/px) comes
                del pil
                return pixels if rgb8 else uint8_to_float(pixels)
            image = pil_to_float_rgb(pil)
            return float_to_uint8(image) if rgb8 else image
    except ImageTooLargeError:
        raise
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)) / 1e6:.1f} MP" if found else "its size"
        raise ImageTooLargeError(
            f"{name}: {size} is over the limit of {max_pixels / 1e6:.0f} MP (raise it with --max-pixels)"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(f"{name}: not a recognised image format (PNG, JPEG, WebP or TIFF expected)") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageDecodeError(f"{name}: corrupt or truncated image ({exc})") from exc


def check_pixel_count(width: int, height: int, *, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Raise :class:`ImageTooLargeError` when ``width × height`` exceeds ``max_pixels``."""
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"{name}: image has no pixels ({width}×{height})")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}×{height} = {width * height / 1e6:.1f} MP is over the limit of "
            f"{max_pixels / 1e6:.0f} MP (raise it with --max-pixels)"
        )


def _is_16bit_colour_tiff(pil: Image.Image) -> bool:
    if pil.format != "TIFF":
        return False
    bits = pil.tag_v2.get(_TIFF_BITS_PER_SAMPLE)
    if isinstance(bits, int):
        bits = (bits,)
    return bool(bits) and len(bits) >= 3 and max(bits) == 16


def _decode_16bit_with_opencv(data: bytes, *, name: str) -> np.ndarray:
    """Pillow reduces 16-bit RGB TIFFs to 8 bits; OpenCV keeps all 16."""
    buf = np.frombuffer(data, np.uint8)
    arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.ndim != 3:
        raise ImageDecodeError(f"{name}: cannot decode 16-bit TIFF")
    arr = arr[:, :, :3][:, :, ::-1]
    return (arr.astype(np.float32) / np.float32(np.iinfo(arr.dtype).max if arr.dtype.kind == "u" else 1.0)).clip(0, 1)


_GREY16_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
"""Pillow's 16/32-bit integer grey modes (the float one is "F")."""


def pil_to_float_rgb(pil: Image.Image) -> np.ndarray:
    """Convert a decoded Pillow image of any mode to (H, W, 3) float32 in [0, 1], RGB."""
    if pil.mode in _GREY16_MODES:
        grey = np.asarray(pil, dtype=np.float32) / np.float32(65535.0)
        grey = np.clip(grey, 0.0, 1.0)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if pil.mode == "F":
        grey = np.clip(np.asarray(pil, dtype=np.float32), 0.0, 1.0)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if pil.mode != "RGB":
        pil = pil.convert("RGB")
    return uint8_to_float(np.asarray(pil))


def uint8_to_float(array: np.ndarray) -> np.ndarray:
    """uint8 in [0, 255] (any shape) → float32 in [0, 1], same shape."""
    if array.dtype != np.uint8:
        raise ParameterError(f"array: expected uint8, got {array.dtype}")
    out = array.astype(np.float32)
    out *= np.float32(1.0 / 255.0)
    return out


def float_to_uint8(array: np.ndarray) -> np.ndarray:
    """float in [0, 1] (any shape) → uint8 in [0, 255], rounded (halves to even), same shape; values
    outside [0, 1] saturate, and NaN (never a valid alpha) comes out as 255.

    OpenCV's saturating conversion over the array seen as rows: no float temporary for contiguous
    float32 or float64 input, and at 12 MP about 5× faster than NumPy's multiply, round and cast (an
    alpha goes out with every reply). Arrays of fewer than :data:`_CV_MIN_VALUES` values go through
    NumPy (OpenCV reads a tiny array as a scalar), with the same results."""
    array = np.asarray(array)
    if array.size < _CV_MIN_VALUES:
        scaled = np.rint(np.multiply(array, 255.0, dtype=np.float64 if array.dtype == np.float64 else np.float32))
        return np.clip(np.nan_to_num(scaled, nan=255.0), 0, 255).astype(np.uint8)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float32)
    rows = np.ascontiguousarray(array).reshape(array.shape[0] if array.ndim > 1 else 1, -1)
    return cv2.multiply(rows, 255.0, dtype=cv2.CV_8U).reshape(array.shape)


_CV_MIN_VALUES = 64
"""The fewest values :func:`float_to_uint8` converts with OpenCV."""

_STRIP_VALUES = 1 << 22
"""Values per strip of :func:`raw_to_image` (16 MB of float32 at a time)."""


def load_grey(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read a mask or trimap file as (H, W) uint8 in [0, 255] (colour files: channel mean)."""
    image = load_image(path, max_pixels=max_pixels)
    return float_to_uint8(image.mean(axis=2))


def save_png(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write uint8 pixels as PNG: (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA.

    The file is written next to its destination and renamed into place, so a
    failed write never leaves a half file behind (see :func:`save_image`).
    """
    save_image(path, array, "png")


SAVE_FORMATS = {".png": "png", ".webp": "webp", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg"}
"""The image files Softcut writes, by suffix: PNG, WebP (lossless) and TIFF keep alpha; JPEG has none."""


def save_format(path: str | os.PathLike) -> str:
    """The format :func:`save_image` writes for ``path``, from its suffix ("png" when it has none);
    :class:`ParameterError` for a suffix Softcut does not write."""
    suffix = Path(path).suffix.lower()
    if not suffix:
        return "png"
    try:
        return SAVE_FORMATS[suffix]
    except KeyError:
        raise ParameterError(
            f"{path}: Softcut does not write {suffix} files; name it .png, .webp, .tif/.tiff (with alpha) "
            f"or .jpg/.jpeg (flattened)") from None


def save_image(path: str | os.PathLike, array: np.ndarray, fmt: str | None = None) -> None:
    """Write uint8 pixels ((H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA) as ``fmt`` (default: from the
    suffix, :func:`save_format`), written beside the destination and renamed into place.

    Raises :class:`ParameterError` for a folder as ``path`` or RGBA as JPEG, and :class:`StorageError`
    when the file cannot be written (nothing half-written is left)."""
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{path}: is a folder; name a file, or give several inputs to write into it")
    data = encode_image(array, fmt or save_format(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def encode_image(array: np.ndarray, fmt: str) -> bytes:
    """Encode uint8 (H, W), (H, W, 3) RGB or (H, W, 4) RGBA pixels as ``fmt``: "png", "webp"
    (lossless, alpha kept), "tiff" (deflate, alpha kept) or "jpeg" (quality 95; no alpha)."""
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ParameterError(f"array: expected uint8 (H, W), (H, W, 3) or (H, W, 4); got {array.dtype} {array.shape}")
    if fmt == "png":
        return encode_png(array)
    options = {"webp": {"lossless": True, "exact": True}, "tiff": {"compression": "tiff_deflate"},
               "jpeg": {"quality": 95}}
    if fmt not in options:
        raise ParameterError(f"format: expected one of png, {', '.join(options)}; got {fmt!r}")
    if fmt == "jpeg" and array.ndim == 3 and array.shape[2] == 4:
        raise ParameterError("JPEG has no alpha: flatten the cut-out on a colour first")
    out = io.BytesIO()
    Image.fromarray(array).save(out, fmt.upper(), **options[fmt])
    return out.getvalue()


def read_header(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """(width, height) of an image file from its header alone, without decoding its pixels: the
    file exists and is readable, its format is one :func:`load_image` reads, and it is within
    ``max_pixels``. Raises :class:`ImageDecodeError` or :class:`ImageTooLargeError` as
    :func:`load_image` would (a file whose pixels are damaged passes; decoding finds it)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(_HEADER_BYTES)
    except OSError as exc:
        raise ImageDecodeError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    return read_header_bytes(head, name=str(path), max_pixels=max_pixels, whole=len(head) < _HEADER_BYTES)


_HEADER_BYTES = 1 << 20
"""What :func:`read_header` reads of a file: enough for any header (EXIF blocks and all)."""


def read_header_bytes(data: bytes, *, name: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS,
                      whole: bool = True) -> tuple[int, int]:
    """:func:`read_header` for bytes in memory (``data``: the file, or its first bytes when not ``whole``)."""
    _before_opening(data, name, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as pil:
                width, height = pil.size
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(f"{name}: not a recognised image format (PNG, JPEG, WebP or TIFF expected)") from exc
    except Image.DecompressionBombError:
        width = height = None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        if not whole:  # a header longer than what was read: decoding will tell
            return 0, 0
        raise ImageDecodeError(f"{name}: corrupt or truncated image ({exc})") from exc
    if width is None:
        raise ImageTooLargeError(f"{name}: over the limit of {max_pixels / 1e6:.0f} MP (raise it with --max-pixels)")
    check_pixel_count(width, height, name=name, max_pixels=max_pixels)
    return width, height


def encode_png(array: np.ndarray, *, compression: int = 3) -> bytes:
    """Encode uint8 (H, W), (H, W, 3) RGB or (H, W, 4) RGBA pixels as PNG bytes."""
    if array.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if array.shape[2] == 4 else cv2.COLOR_RGB2BGR
        array = cv2.cvtColor(array, code)
    ok, buf = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise ParameterError("array: OpenCV could not encode it as PNG")
    return buf.tobytes()


RAW_CHANNELS = {"rgba8": 4, "rgb8": 3, "grey8": 1}
"""Raw 8-bit pixel layouts (row-major, top-down, channels interleaved)."""


def raw_to_rgb8(data: bytes | memoryview, width: int, height: int, layout: str) -> np.ndarray:
    """Raw 8-bit pixels (an editor's buffer) → (H, W, 3) uint8 RGB.

    ``layout``: "rgba8" (alpha ignored), "rgb8" or "grey8" (repeated into R, G, B).
    """
    channels = RAW_CHANNELS.get(layout)
    if channels is None:
        raise ParameterError(f"layout: expected one of {', '.join(RAW_CHANNELS)}; got {layout!r}")
    if len(data) != width * height * channels:
        raise ImageDecodeError(
            f"raw {layout} buffer of {len(data)} bytes does not hold {width}×{height}×{channels} pixels"
        )
    pixels = np.frombuffer(data, np.uint8).reshape(height, width, channels)
    if channels == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, :3])


def raw_to_image(data: bytes | memoryview, width: int, height: int, layout: str) -> np.ndarray:
    """Raw 8-bit pixels (an editor's buffer) → (H, W, 3) float32 in [0, 1], RGB (see :func:`raw_to_rgb8`).

    Converted strip by strip from the buffer, without an 8-bit RGB copy of the whole image."""
    channels = RAW_CHANNELS.get(layout)
    if channels is None or len(data) != width * height * channels:
        return uint8_to_float(raw_to_rgb8(data, width, height, layout))  # raises the right error
    pixels = np.frombuffer(data, np.uint8).reshape(height, width, channels)
    out = np.empty((height, width, 3), np.float32)
    step = max(1, _STRIP_VALUES // max(1, width * 3))
    for y0 in range(0, height, step):
        strip = out[y0:y0 + step]
        strip[...] = pixels[y0:y0 + step, :, :3] if channels > 1 else pixels[y0:y0 + step]  # grey: to R, G, B
        strip *= np.float32(1.0 / 255.0)
    return out


def grey8_view(data: bytes | memoryview, width: int, height: int) -> np.ndarray:
    """Raw grey8 pixels as (height, width) uint8 over their bytes (read-only, no copy)."""
    if len(data) != width * height:
        raise ImageDecodeError(f"raw grey8 buffer of {len(data)} bytes does not hold {width}×{height} pixels")
    return np.frombuffer(data, np.uint8).reshape(height, width)


def raw_to_grey(data: bytes | memoryview, width: int, height: int, layout: str) -> np.ndarray:
    """Raw 8-bit pixels → (H, W) uint8 grey (a trimap or mask; colour layouts: channel mean)."""
    if layout == "grey8":
        return grey8_view(data, width, height).copy()
    return float_to_uint8(raw_to_image(data, width, height, layout).mean(axis=2))
