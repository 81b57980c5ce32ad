"""Frame sources for ``softcut video``: frames one at a time as (H, W, 3) float32 RGB in [0, 1].

:func:`open_source` opens a folder of image files in natural order (frame2 before frame10), or any
video file ffmpeg reads (decoded by streaming, RGB24). Memory stays bounded whatever the length.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.errors import ImageDecodeError, ImageInputError
from core.imageio import DEFAULT_MAX_PIXELS, check_pixel_count, load_image, uint8_to_float
from core.video.encode import ffmpeg_exe

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
"""Frame files a folder source reads (case-insensitive)."""


class VideoInputError(ImageInputError):
    """A video or frame folder cannot be used: unreadable, empty, frames of different sizes."""

    code = "bad_video"


class FrameDecodeError(ImageDecodeError):
    """A frame file of a folder source is corrupt (the message names it); the frames
    finished before it are kept."""

    code = "frame_decode_failed"


def natural_key(name: str) -> list:
    """Sort key that orders digit runs by value: frame2 < frame10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class SourceInfo:
    """What a source holds.

    kind: "folder" or "video"; width, height: frame size in pixels; frames: the frame count
    (for a video, from its metadata: an estimate, None when unknown); fps: frames per second
    (None for a folder); names: output PNG name per frame (folder sources only).
    """

    kind: str
    path: Path
    width: int
    height: int
    frames: int | None
    fps: float | None
    names: tuple[str, ...] = ()

    def identity(self) -> dict:
        """What a resumed run must find unchanged about its input."""
        ident = {"kind": self.kind, "path": str(self.path.resolve()), "frames": self.frames,
                 "width": self.width, "height": self.height}
        if self.kind == "folder":
            ident["names"] = hashlib.sha1("\n".join(self.names).encode()).hexdigest()
        else:
            ident["bytes"] = self.path.stat().st_size
        return ident

    def name(self, index: int) -> str:
        """The output PNG name of frame ``index`` (from 0)."""
        return self.names[index] if self.names else f"frame_{index + 1:06d}.png"


class FolderSource:
    """A folder of frame images (PNG, JPEG, TIFF, BMP, WebP), in natural name order.

    All frames must have the same size (checked from the headers when opened, and again
    as each is decoded). ``frames(start)`` yields (H, W, 3) float32 RGB in [0, 1].
    """

    def __init__(self, folder: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.max_pixels = max_pixels
        self.files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                            key=lambda p: natural_key(p.name))
        if not self.files:
            raise VideoInputError(f"{folder}: no frames ({', '.join(IMAGE_SUFFIXES)}) in this folder")
        names = [p.stem + ".png" for p in self.files]
        seen: dict[str, Path] = {}
        for path, name in zip(self.files, names):
            if name in seen:
                raise VideoInputError(f"{seen[name].name} and {path.name} would both be written as {name}")
            seen[name] = path
        width, height = _header_size(self.files[0])
        check_pixel_count(width, height, name=str(self.files[0]), max_pixels=max_pixels)
        for path in self.files[1:]:
            w, h = _header_size(path)
            if (w, h) != (width, height):
                raise VideoInputError(f"{path}: frame size {w}×{h} differs from the first frame's {width}×{height} "
                                      f"({self.files[0].name})")
        self.info = SourceInfo("folder", folder, width, height, len(self.files), None, tuple(names))

    def frames(self, start: int = 0) -> Iterator[np.ndarray]:
        """Frames ``start``, ``start + 1``, …: (H, W, 3) float32 RGB in [0, 1] each.

        Raises FrameDecodeError naming a corrupt frame; VideoInputError for a frame of
        another size."""
        for path in self.files[start:]:
            try:
                image = load_image(path, max_pixels=self.max_pixels)
            except ImageDecodeError as exc:
                raise FrameDecodeError(str(exc)) from exc
            if image.shape[:2] != (self.info.height, self.info.width):
                raise VideoInputError(f"{path}: frame size {image.shape[1]}×{image.shape[0]} differs from the first "
                                      f"frame's {self.info.width}×{self.info.height}")
            yield image


def _header_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as pil:
            return pil.size
    except (OSError, ValueError, SyntaxError) as exc:
        raise FrameDecodeError(f"{path}: not a readable image ({exc})") from exc


class VideoFileSource:
    """A video file, decoded by streaming through ffmpeg (``imageio_ffmpeg.read_frames``,
    RGB24). fps and frame count come from its metadata. ``frames(start)`` yields (H, W, 3)
    float32 RGB in [0, 1]; the frames before ``start`` are decoded and dropped (exact)."""

    def __init__(self, path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        ffmpeg_exe()
        self.path = path
        if not path.is_file():
            raise VideoInputError(f"{path}: no such file or folder")
        reader, meta = self._reader()
        reader.close()
        width, height = meta["size"]
        check_pixel_count(width, height, name=str(path), max_pixels=max_pixels)
        fps = float(meta.get("fps") or 0.0) or None
        duration = float(meta.get("duration") or 0.0)
        count = round(fps * duration) if fps and duration else None
        self.info = SourceInfo("video", path, width, height, count, fps)

    def _reader(self) -> tuple[Iterator[bytes], dict]:
        """ffmpeg's frame generator, started, and the metadata it gave first."""
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(self.path), pix_fmt="rgb24")
        try:
            meta = next(reader)
        except (OSError, RuntimeError, StopIteration) as exc:
            reader.close()
            raise VideoInputError(f"{self.path}: ffmpeg cannot read it as a video ({_first_line(exc)})") from exc
        return reader, meta

    def frames(self, start: int = 0) -> Iterator[np.ndarray]:
        """Frames ``start``, ``start + 1``, …: (H, W, 3) float32 RGB in [0, 1] each."""
        reader, _ = self._reader()
        shape = (self.info.height, self.info.width, 3)
        try:
            for index, data in enumerate(reader):
                if index >= start:
                    yield uint8_to_float(np.frombuffer(data, np.uint8).reshape(shape))
        except (OSError, RuntimeError) as exc:
            raise VideoInputError(f"{self.path}: decoding failed ({_first_line(exc)})") from exc
        finally:
            reader.close()


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip() and not line.startswith("===")]
    return lines[-1].strip() if lines else type(exc).__name__


def open_source(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS):
    """A :class:`FolderSource` for a folder, else a :class:`VideoFileSource`."""
    path = Path(path)
    if path.is_dir():
        return FolderSource(path, max_pixels=max_pixels)
    if not path.exists():
        raise VideoInputError(f"{path}: no such file or folder")
    return VideoFileSource(path, max_pixels=max_pixels)
