"""Frames in and out of files for ``softcut video``: frame sources, output sinks, and the
resumable run that joins them to :class:`core.video.pipeline.VideoMatter`.

Sources (:func:`open_source`) give frames one at a time as (H, W, 3) float32 RGB in [0, 1]:
a folder of image files in natural order (frame2 before frame10), or any video file
ffmpeg reads (decoded by streaming, RGB24). Memory stays bounded whatever the length.

Sinks (:func:`parse_outputs`), chosen by the output path:

- a folder (no suffix, or an existing directory): one straight-alpha RGBA PNG per frame,
  the decontaminated foreground as colour, named as the input frames (``.png``), or
  ``frame_000001.png``… for a video input;
- ``.mov``: ProRes 4444 with alpha (yuva444p10le); ``.webm``: VP9 with alpha (yuva420p);
- ``.mp4``, ``.mkv``, ``.avi``: the matte as a grey H.264 video (yuv420p).

4:2:0 outputs (VP9, H.264) of an odd width or height get one black row or column added.

Resume: frames are written as RGBA PNGs (temporary name, then renamed) into a store folder
(the first folder output, else ``<first video output>.partial/``) with a state file
(:data:`STATE_NAME`: the input's identity, the options that change the result, the
frames done) and the last finished frame's filtered matte (float32 ``.npy``). A run with
the same input and options carries on after the last finished frame
(:meth:`VideoMatter.seed`), which gives the same frames as a run never stopped. A store
holding another input's or other options' unfinished run is refused
(:class:`ResumeConflictError`) unless ``restart`` is given. Videos are encoded at the end
from the store's PNGs with the ffmpeg binary of the ``imageio-ffmpeg`` wheel; the work
folder is then removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from glob import escape as glob_escape
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.composite import cutout_rgba
from core.errors import ImageDecodeError, ImageInputError, ParameterError, SoftcutError
from core.imageio import DEFAULT_MAX_PIXELS, check_pixel_count, load_image, save_png, uint8_to_float
from core.plate.align import prepare_plate
from core.video.pipeline import VideoMatter, VideoOptions, frame_matte, used_plate

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
"""Frame files a folder source reads (case-insensitive)."""

VIDEO_KINDS = {".mov": "prores", ".webm": "vp9", ".mp4": "matte", ".mkv": "matte", ".avi": "matte"}
"""Output suffix → what is written: ProRes 4444 with alpha, VP9 with alpha, grey matte."""

_CONTAINERS = {".mov": "mov", ".webm": "webm", ".mp4": "mp4", ".mkv": "matroska", ".avi": "avi"}

STATE_NAME = ".softcut-video.json"
"""The state file of a run, in its store folder."""

STATE_VERSION = 1
STAGES = ("decode", "model", "refine", "temporal", "edges_colours", "write")
"""Where a run's time goes (:attr:`VideoRun.timings`, seconds summed over frames): "model"
includes resizing to the working size; "refine" the trimap, refinement and upsampling; "write"
the RGBA conversion and PNG encoding."""
DEFAULT_FPS = 25.0
INSTALL_HINT = 'pip install "softcut[video]"'


class VideoToolMissingError(SoftcutError):
    """Video files need the ffmpeg binary of the ``imageio-ffmpeg`` package, which is not installed."""

    code = "video_tool_missing"


class VideoInputError(ImageInputError):
    """A video or frame folder cannot be used: unreadable, empty, frames of different sizes."""

    code = "bad_video"


class FrameDecodeError(ImageDecodeError):
    """A frame file of a folder source is corrupt (the message names it); the frames
    finished before it are kept."""

    code = "frame_decode_failed"


class VideoEncodeError(SoftcutError):
    """ffmpeg failed to write a video output; the frames stay in the work folder."""

    code = "video_encode_failed"


class ResumeConflictError(SoftcutError):
    """An output's store holds an unfinished run of another input or other options."""

    code = "resume_conflict"


# ── ffmpeg ───────────────────────────────────────────────────────────────────


def ffmpeg_exe() -> str:
    """The path of the ffmpeg binary the ``imageio-ffmpeg`` wheel ships (never the system's).

    Raises VideoToolMissingError, with the install command, when the package is missing.
    """
    try:
        import imageio_ffmpeg
    except ImportError:
        raise VideoToolMissingError(f"video files need the imageio-ffmpeg package: {INSTALL_HINT}") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def natural_key(name: str) -> list:
    """Sort key that orders digit runs by value: frame2 < frame10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


# ── sources ──────────────────────────────────────────────────────────────────


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


# ── outputs ──────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Output:
    """One output of a run: ``path`` and ``kind``, "folder" (RGBA PNGs), "prores"
    (ProRes 4444 with alpha), "vp9" (VP9 with alpha) or "matte" (grey H.264)."""

    path: Path
    kind: str

    @property
    def is_video(self) -> bool:
        return self.kind != "folder"


def parse_outputs(paths: list[str | os.PathLike]) -> list[Output]:
    """The outputs for ``-o`` paths, by suffix (a folder: no suffix or an existing folder).

    Raises ParameterError for an unknown suffix or a path given twice, before any work."""
    if not paths:
        raise ParameterError("output: expected at least one -o")
    outputs: list[Output] = []
    for raw in paths:
        path = Path(raw)
        suffix = path.suffix.lower()
        if path.is_dir() or not suffix:
            if path.exists() and not path.is_dir():
                raise ParameterError(f"-o {path}: a file of that name exists; a folder output needs a folder")
            kind = "folder"
        elif suffix in VIDEO_KINDS:
            kind = VIDEO_KINDS[suffix]
        else:
            raise ParameterError(
                f"-o {path}: unknown output type {path.suffix!r}; expected a folder (PNG frames), .mov (ProRes 4444 "
                "with alpha), .webm (VP9 with alpha) or .mp4/.mkv/.avi (the matte as a grey video)"
            )
        if any(o.path.resolve() == path.resolve() for o in outputs):
            raise ParameterError(f"-o {path}: given twice")
        outputs.append(Output(path, kind))
    return outputs


def check_outputs(source: SourceInfo, outputs: list[Output]) -> None:
    """Refuse, before any work, outputs that would overwrite the input (its folder, its
    file), and video files without ffmpeg (VideoToolMissingError)."""
    for out in outputs:
        if out.path.resolve() == source.path.resolve():
            raise ParameterError(f"-o {out.path}: that is the input; choose another output")
    if source.kind == "video" or any(o.is_video for o in outputs):
        ffmpeg_exe()


def store_folder(outputs: list[Output]) -> tuple[Path, bool]:
    """Where a run writes its frames: the first folder output, else a work folder beside the
    first video output (``cut.mov.partial``). Returns (folder, whether it is a work folder)."""
    for out in outputs:
        if out.kind == "folder":
            return out.path, False
    first = outputs[0].path
    return first.with_name(first.name + ".partial"), True


# ── the store: finished frames and the run's state ──────────────────────────


class FrameStore:
    """The folder holding a run's finished frames (RGBA PNGs), its state file and the last
    finished frame's filtered matte (float32 ``.npy``), each written under a temporary
    name and renamed, so an interrupted run leaves whole files only."""

    def __init__(self, folder: Path, *, work: bool) -> None:
        self.folder = folder
        self.work = work
        self.state: dict = {}

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_NAME

    @property
    def done(self) -> int:
        """Frames finished so far."""
        return int(self.state.get("frames_done", 0))

    @property
    def finished(self) -> bool:
        """Whether every frame is done (only the video encoding may be left)."""
        return bool(self.state.get("finished", False))

    def begin(self, identity: dict, options: dict, *, restart: bool) -> int:
        """Open the store for a run of input ``identity`` with result-changing ``options``.

        Returns the frames already done by an earlier run of the same input and options (0
        for a new run). Raises ResumeConflictError when the store holds another input's or
        other options' run and ``restart`` is False."""
        if self.folder.is_dir():
            for stale in self.folder.glob(".*.tmp"):  # a frame, matte or state being written when stopped
                if stale.name.startswith(".softcut-") or ".png." in stale.name:
                    stale.unlink(missing_ok=True)
        old = None if restart else _read_state(self.state_path)
        if old is not None:
            if old.get("version") == STATE_VERSION and old.get("input") == identity and old.get("options") == options:
                self.state = old
                if self.done and not self._matte_path(self.done - 1).is_file():
                    self.state["frames_done"], self.state["finished"] = 0, False  # no matte to seed from
                return self.done
            what = "another input" if old.get("input") != identity else "other options"
            raise ResumeConflictError(
                f"{self.folder} holds an unfinished run of {old.get('input', {}).get('path', 'another input')} "
                f"({old.get('frames_done', 0)} frames done) with {what}; run the same command as then to "
                "resume it, add --restart to start over, or choose another output"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".softcut-matte-*.npy"):
            stale.unlink()
        self.state = {"version": STATE_VERSION, "input": identity, "options": options, "frames_done": 0,
                      "finished": False}
        self._save_state()
        return 0

    def write(self, index: int, name: str, rgba: np.ndarray, filtered: np.ndarray) -> None:
        """Record frame ``index`` as done: ``rgba`` (H, W, 4) uint8 straight RGBA, written as
        ``name``; ``filtered`` (H, W) float32 in [0, 1], its matte after the temporal filter
        (what a resumed run seeds from)."""
        if index != self.done:
            raise ParameterError(f"index: expected frame {self.done} next; got {index}")
        save_png(self.folder / name, rgba)
        matte = self._matte_path(index)
        tmp = matte.with_name(matte.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(filtered, np.float32))
        os.replace(tmp, matte)
        self.state["frames_done"] = index + 1
        self._save_state()
        if index:
            self._matte_path(index - 1).unlink(missing_ok=True)

    def last_filtered(self) -> np.ndarray:
        """(H, W) float32 in [0, 1]: the filtered matte of the last frame done."""
        return np.load(self._matte_path(self.done - 1))

    def mark_finished(self) -> None:
        """Every frame is done; only outputs are left to write."""
        self.state["finished"] = True
        self._save_state()

    def close(self) -> None:
        """The run is complete: remove its state (and the folder, for a work folder)."""
        if self.work:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        self.state_path.unlink(missing_ok=True)
        for matte in self.folder.glob(".softcut-matte-*.npy"):
            matte.unlink()

    def _matte_path(self, index: int) -> Path:
        return self.folder / f".softcut-matte-{index:06d}.npy"

    def _save_state(self) -> None:
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        os.replace(tmp, self.state_path)


def _read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("%s: unreadable state file, starting over", path)
        return None


# ── encoding ─────────────────────────────────────────────────────────────────


def video_arguments(kind: str, width: int, height: int) -> list[str]:
    """ffmpeg output arguments for an output ``kind`` ("prores", "vp9", "matte")."""
    even = [] if width % 2 == 0 and height % 2 == 0 else ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
    if kind == "prores":
        return ["-c:v", "prores_ks", "-profile:v", "4444", "-pix_fmt", "yuva444p10le", "-vendor", "apl0"]
    if kind == "vp9":
        return [*even, "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-crf", "20", "-b:v", "0",
                "-row-mt", "1", "-cpu-used", "4"]
    if kind == "matte":
        return [*even, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "12", "-preset", "medium"]
    raise ParameterError(f"kind: expected prores, vp9 or matte; got {kind!r}")


def encode_video(output: Output, frames: list[Path], *, width: int, height: int, fps: float,
                 audio: Path | None = None) -> None:
    """Write ``output`` from RGBA PNG ``frames`` (width × height each) at ``fps``, piping
    raw pixels to ffmpeg (BGRA, as OpenCV decodes them, or the alpha as grey for a matte).
    ``audio``: a file whose first audio track goes into .mov (PCM) and .webm (Opus) outputs.
    The video is written under a temporary name and renamed into place.

    Raises VideoEncodeError with ffmpeg's message when it fails."""
    import cv2

    grey = output.kind == "matte"
    container = _CONTAINERS[output.path.suffix.lower()]
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
           "-pix_fmt", "gray" if grey else "bgra", "-s", f"{width}x{height}", "-framerate", f"{fps:g}", "-i", "-"]
    if audio is not None and not grey:
        cmd += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0?", "-t", f"{len(frames) / fps:.6f}",
                "-c:a", "pcm_s16le" if output.kind == "prores" else "libopus"]
    output.path.parent.mkdir(parents=True, exist_ok=True)
    for stale in output.path.parent.glob(f".{glob_escape(output.path.name)}.*.tmp"):  # from a run stopped while encoding
        stale.unlink(missing_ok=True)
    tmp = output.path.with_name(f".{output.path.name}.{os.getpid()}.tmp")
    cmd += [*video_arguments(output.kind, width, height), "-f", container, str(tmp)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            for path in frames:
                pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
                if pixels is None or pixels.shape[:2] != (height, width) or pixels.ndim != 3 or pixels.shape[2] != 4:
                    raise VideoEncodeError(f"{path}: not a {width}×{height} RGBA frame of this run")
                proc.stdin.write(np.ascontiguousarray(pixels[:, :, 3]) if grey else pixels)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            proc.kill()
            proc.wait()
            tmp.unlink(missing_ok=True)
            raise
        code = proc.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip().splitlines()
            tmp.unlink(missing_ok=True)
            raise VideoEncodeError(f"{output.path}: ffmpeg failed ({message[-1] if message else f'exit {code}'})")
    os.replace(tmp, output.path)


# ── the run ──────────────────────────────────────────────────────────────────


class VideoRun:
    """One ``softcut video`` run: frames from ``source`` through a model and a
    :class:`VideoMatter`, written into a :class:`FrameStore`, then the outputs.

    Call ``begin()`` (returns the frames an earlier run already did), ``matte(progress)``
    and ``write_outputs(progress)``, in this order. ``done`` counts the frames finished.

    source: a FolderSource or VideoFileSource; predict: the model's
    ``(H, W, 3) float32 → coarse alpha``; fingerprint: what else changes the result (the
    model, the plate), kept in the state with ``options``; plate: (Hp, Wp, 3) float32 in
    [0, 1], a clean plate of the scene; fps: the output videos' rate.
    """

    def __init__(self, source, outputs: list[Output], predict: Callable[[np.ndarray], np.ndarray],
                 options: VideoOptions, *, fingerprint: dict, plate: np.ndarray | None = None,
                 fps: float = DEFAULT_FPS, restart: bool = False) -> None:
        check_outputs(source.info, outputs)
        self.source = source
        self.outputs = outputs
        self.predict = predict
        self.options = options
        self.plate = None if plate is None else prepare_plate(plate)  # its features found once for all frames
        self.fps = fps
        self.restart = restart
        self.fingerprint = {**fingerprint, "video_options": _jsonable(asdict(options))}
        folder, work = store_folder(outputs)
        self.store = FrameStore(folder, work=work)
        self.resumed_from = 0
        self.without_plate = 0  # frames of this run the plate could not be aligned to
        self.timings: dict[str, float] = {}

    @property
    def done(self) -> int:
        return self.store.done

    @property
    def matted(self) -> int:
        """Frames matted by this run (the rest were done by the run it resumed)."""
        return self.store.done - self.resumed_from

    def begin(self) -> int:
        """Open the store; returns the frames an earlier run of the same input and options did."""
        self.resumed_from = self.store.begin(self.source.info.identity(), self.fingerprint, restart=self.restart)
        return self.resumed_from

    def matte(self, progress: Callable[[int, int | None], None] | None = None) -> None:
        """Matte the frames not done yet, writing each as it is finished.
        ``progress(done, total)`` after each frame (total None when unknown)."""
        if self.store.finished:
            return
        matter = VideoMatter(self.options)
        start = self.store.done
        frames = self.source.frames(max(0, start - 1))
        if start:
            previous = next(frames)
            raw = frame_matte(previous, self.predict, self.options, plate=self.plate)
            matter.seed(start, previous, raw.unedited, self.store.last_filtered())
        clock = self.timings
        for name in STAGES:
            clock.setdefault(name, 0.0)
        t0 = time.perf_counter()
        for image in frames:
            clock["decode"] += time.perf_counter() - t0
            matte = frame_matte(image, self.predict, self.options, plate=self.plate)
            self.without_plate += self.plate is not None and not used_plate(matte)
            for name, seconds in matte.timings.items():
                clock["model" if name in ("resize", "model") else "refine"] += seconds
            finished = matter.push(image, matte.unedited, background=matte.background, known=matte.known)
            t1 = time.perf_counter()
            self._write(finished, progress)
            t0 = time.perf_counter()
            clock["write"] += t0 - t1
        finished = matter.finish()
        t1 = time.perf_counter()
        self._write(finished, progress)
        clock["write"] += time.perf_counter() - t1
        clock["temporal"] += matter.timings["temporal"]
        clock["edges_colours"] += matter.timings["edges"]
        self.store.mark_finished()

    def _write(self, frames, progress) -> None:
        for frame in frames:
            rgba = cutout_rgba(frame.foreground, frame.alpha)
            self.store.write(frame.index, self.source.info.name(frame.index), rgba, frame.unedited)
            if progress is not None:
                progress(self.store.done, self.source.info.frames)

    def write_outputs(self, progress: Callable[[str], None] | None = None) -> list[str]:
        """Copy the frames into further folder outputs, encode the video outputs, then
        close the store (a work folder is removed). ``progress(path)`` before each output.
        Returns the outputs' paths."""
        info = self.source.info
        paths = [self.store.folder / info.name(k) for k in range(self.store.done)]
        audio = info.path if info.kind == "video" else None
        for out in self.outputs:
            if progress is not None:
                progress(str(out.path))
            if out.kind == "folder":
                if out.path != self.store.folder:
                    out.path.mkdir(parents=True, exist_ok=True)
                    for path in paths:
                        shutil.copyfile(path, out.path / path.name)
            else:
                encode_video(out, paths, width=info.width, height=info.height, fps=self.fps, audio=audio)
        self.store.close()
        return [str(o.path) for o in self.outputs]


def _jsonable(value):
    """Dataclass dicts as JSON would give them back (tuples as lists), for comparing states."""
    return json.loads(json.dumps(value))
