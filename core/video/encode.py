"""The outputs of ``softcut video``, chosen by the output path (:func:`parse_outputs`), and their encoding
with the ffmpeg binary of the ``imageio-ffmpeg`` wheel (:func:`encode_video`):

- a folder (no suffix, or an existing directory): one straight-alpha RGBA PNG per frame,
  the decontaminated foreground as colour, named as the input frames (``.png``), or
  ``frame_000001.png``… for a video input;
- ``.mov``: ProRes 4444 with alpha (yuva444p10le); ``.webm``: VP9 with alpha (yuva420p);
- ``.mp4``, ``.mkv``, ``.avi``: the matte as a grey H.264 video (yuv420p).

4:2:0 outputs (VP9, H.264) of an odd width or height get one black row or column added.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import ParameterError, SoftcutError

if TYPE_CHECKING:  # pragma: no cover
    from core.video.sources import SourceInfo

VIDEO_KINDS = {".mov": "prores", ".webm": "vp9", ".mp4": "matte", ".mkv": "matte", ".avi": "matte"}
"""Output suffix → what is written: ProRes 4444 with alpha, VP9 with alpha, grey matte."""

_CONTAINERS = {".mov": "mov", ".webm": "webm", ".mp4": "mp4", ".mkv": "matroska", ".avi": "avi"}

INSTALL_HINT = 'pip install "softcut[video]"'


class VideoToolMissingError(SoftcutError):
    """Video files need the ffmpeg binary of the ``imageio-ffmpeg`` package, which is not installed."""

    code = "video_tool_missing"


class VideoEncodeError(SoftcutError):
    """ffmpeg failed to write a video output; the frames stay in the work folder."""

    code = "video_encode_failed"


def ffmpeg_exe() -> str:
    """The path of the ffmpeg binary the ``imageio-ffmpeg`` wheel ships (never the system's).

    Raises VideoToolMissingError, with the install command, when the package is missing.
    """
    try:
        import imageio_ffmpeg
    except ImportError:
        raise VideoToolMissingError(f"video files need the imageio-ffmpeg package: {INSTALL_HINT}") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


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
