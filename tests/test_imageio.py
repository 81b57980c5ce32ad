"""Image decoding: formats, orientation, bit depths, limits and bad files."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from core.errors import ImageDecodeError, ImageTooLargeError, ParameterError
from core.imageio import decode_image, encode_png, float_to_uint8, load_grey, load_image, save_png


def _pil_bytes(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def _gradient(h=24, w=40) -> np.ndarray:
    x = np.linspace(0, 255, w, dtype=np.float32)
    rgb = np.stack([np.tile(x, (h, 1)), np.tile(x[::-1], (h, 1)), np.full((h, w), 77.0)], axis=2)
    return rgb.astype(np.uint8)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_lossless_formats_round_trip(fmt):
    rgb = _gradient()
    kw = {"lossless": True} if fmt == "WEBP" else {}
    out = decode_image(_pil_bytes(Image.fromarray(rgb), fmt, **kw), name=f"x.{fmt}")
    assert out.dtype == np.float32 and out.shape == (24, 40, 3)
    np.testing.assert_array_equal(float_to_uint8(out), rgb)


def test_jpeg_exif_orientation_is_applied():
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = 255  # left half white
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    out = decode_image(_pil_bytes(image, "JPEG", exif=exif, quality=95), name="r.jpg")
    assert out.shape == (40, 20, 3)
    assert out[:20].mean() > 0.9 and out[20:].mean() < 0.1  # left half is now the top


def test_cmyk_jpeg_becomes_rgb():
    image = Image.new("CMYK", (16, 8), (0, 255, 255, 0))  # pure red in CMYK
    out = decode_image(_pil_bytes(image, "JPEG", quality=95), name="c.jpg")
    assert out.shape == (8, 16, 3)
    r, g, b = out.reshape(-1, 3).mean(axis=0)
    assert r > 0.9 and g < 0.1 and b < 0.1


def test_grey_rgba_and_palette():
    grey = decode_image(_pil_bytes(Image.new("L", (5, 4), 128), "PNG"))
    assert grey.shape == (4, 5, 3) and np.allclose(grey, 128 / 255)
    rgba = Image.new("RGBA", (5, 4), (10, 20, 30, 0))  # fully transparent: colour must survive
    out = decode_image(_pil_bytes(rgba, "PNG"))
    np.testing.assert_array_equal(float_to_uint8(out)[0, 0], [10, 20, 30])
    pal = Image.new("P", (5, 4), 3)
    pal.putpalette([0, 0, 0, 10, 10, 10, 20, 20, 20, 200, 100, 50] + [0] * 756)
    np.testing.assert_array_equal(float_to_uint8(decode_image(_pil_bytes(pal, "PNG")))[0, 0], [200, 100, 50])


def test_sixteen_bit_tiff_keeps_precision(tmp_path):
    rgb16 = np.zeros((6, 7, 3), np.uint16)
    rgb16[..., 0] = 257 * 200 + 100  # between two 8-bit levels
    rgb16[..., 2] = 65535
    path = tmp_path / "deep.tif"
    cv2.imwrite(str(path), rgb16[..., ::-1])
    out = load_image(path)
    assert out[0, 0, 0] == pytest.approx((257 * 200 + 100) / 65535, abs=1e-6)
    assert out[0, 0, 2] == pytest.approx(1.0) and out[0, 0, 1] == 0.0
    grey16 = np.full((6, 7), 30000, np.uint16)
    cv2.imwrite(str(tmp_path / "g.tif"), grey16)
    assert load_image(tmp_path / "g.tif")[0, 0, 1] == pytest.approx(30000 / 65535, abs=1e-6)


def test_bad_files_name_the_file(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageDecodeError, match="empty.png"):
        load_image(empty)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is not an image at all" * 10)
    with pytest.raises(ImageDecodeError, match="junk.jpg"):
        load_image(junk)
    good = _pil_bytes(Image.fromarray(_gradient(200, 200)), "PNG")
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(good[: len(good) // 2])
    with pytest.raises(ImageDecodeError, match="trunc.png"):
        load_image(trunc)
    with pytest.raises(ImageDecodeError, match="missing.png"):
        load_image(tmp_path / "missing.png")


def test_pixel_limit_is_checked_from_the_header_before_decoding():
    # A 20000×20000 PNG header on top of a tiny body: decoding would fail or
    # allocate 1.2 GB; the limit must refuse it from the header alone.
    head = _pil_bytes(Image.new("L", (1, 1)), "PNG")
    ihdr = head.index(b"IHDR")
    import struct
    import zlib

    fields = struct.pack(">II", 20000, 20000) + head[ihdr + 12 : ihdr + 17]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + fields))
    bomb = head[: ihdr + 4] + fields + crc + head[ihdr + 21 :]
    with pytest.raises(ImageTooLargeError, match="400.0 MP is over the limit of 100 MP"):
        decode_image(bomb, name="bomb.png")
    with pytest.raises(ImageTooLargeError):
        decode_image(_pil_bytes(Image.new("RGB", (100, 100)), "PNG"), max_pixels=5000)


def test_save_png_writes_grey_rgb_rgba(tmp_path):
    rgba = np.random.default_rng(0).integers(0, 256, (9, 11, 4), dtype=np.uint8)
    save_png(tmp_path / "a.png", rgba)
    back = np.asarray(Image.open(tmp_path / "a.png"))
    np.testing.assert_array_equal(back, rgba)
    save_png(tmp_path / "g.png", rgba[..., 0])
    np.testing.assert_array_equal(load_grey(tmp_path / "g.png"), rgba[..., 0])
    with pytest.raises(ParameterError):
        save_png(tmp_path / "bad.png", rgba.astype(np.float32))
    assert encode_png(rgba[..., :3])[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (1,), (63,), (64,), (4, 1), (64, 1), (1, 64), (30, 40), (30, 40, 3), (9, 8, 5),
                                   (20, 30, 4)])
def test_float_to_uint8_rounds_and_saturates_alike_on_every_path(shape, dtype):
    """OpenCV converts arrays of 64 values or more, NumPy the smaller ones: the same rounding (halves to
    even), saturation outside [0, 1] and NaN (255) on both, for any shape and either float type."""
    rng = np.random.default_rng(len(shape) * 100 + int(np.prod(shape)))
    values = rng.uniform(-0.2, 1.2, shape).astype(dtype)
    if values.size >= 3:
        values.flat[:3] = (np.nan, 0.5 / 255, 1.5 / 255)  # NaN and two exact halves
    got = float_to_uint8(values)
    assert got.dtype == np.uint8 and got.shape == shape
    scaled = np.rint(values.astype(np.float64) * 255)
    want = np.clip(np.nan_to_num(scaled, nan=255.0), 0, 255).astype(np.uint8)
    assert np.abs(got.astype(int) - want.astype(int)).max(initial=0) <= (1 if dtype == np.float32 else 0)
    if values.size >= 64:  # the first values through NumPy give what OpenCV gave them in the larger array
        assert np.array_equal(float_to_uint8(values.ravel()[:63]), got.ravel()[:63])
    if values.size >= 3:
        assert list(got.ravel()[:3]) == [255, 0, 2]


def test_float_to_uint8_takes_strided_and_non_float_input():
    values = np.linspace(0, 1, 400, dtype=np.float32).reshape(20, 20)
    assert np.array_equal(float_to_uint8(values[:, ::2]), float_to_uint8(values)[:, ::2])
    assert np.array_equal(float_to_uint8(np.eye(10, dtype=np.int64)), (np.eye(10) * 255).astype(np.uint8))
