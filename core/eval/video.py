"""Score video matting on folders of frames with a mask per frame (the DAVIS layout):
``ROOT/SEQ/input/NNNNN.jpg|png`` and ``ROOT/SEQ/gt/NNNNN.png`` (0/255).

Each frame is matted on its own as the video pipeline does (:func:`core.video.pipeline.frame_matte`,
or ``raw``: the plain model output), then the sequence goes through the temporal filter
(:class:`core.video.temporal.TemporalFilter`, with the :class:`~core.video.pipeline.VideoOptions`'
delay and smoothing). Both are scored: mean per-frame IoU of the matte at 0.5 against the mask,
and flicker as the shared DAVIS README defines it (:func:`core.eval.metrics.truth_flicker`).
Frames stream through: a sequence's frames are never all held at once.
"""

from __future__ import annotations

import csv
import math
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.errors import ParameterError
from core.eval import salient
from core.eval.folder import INPUT_SUFFIXES, load_mask
from core.eval.metrics import change_error
from core.imageio import load_image
from core.video.pipeline import VideoOptions, frame_matte
from core.video.temporal import TemporalFilter

Predict = Callable[[np.ndarray], np.ndarray]

METHODS = ("raw", "none", "fast", "best")
SCORES = ("iou", "flicker", "filtered_iou", "filtered_flicker")


@dataclass(frozen=True)
class SequenceRow:
    """One sequence matted with one method.

    iou, flicker: the per-frame mattes' mean IoU (at 0.5) and flicker; filtered_iou,
    filtered_flicker: the same after the temporal filter. frames: how many were scored;
    seconds: matting and filtering time.
    """

    sequence: str
    method: str
    frames: int
    iou: float
    flicker: float
    filtered_iou: float
    filtered_flicker: float
    seconds: float

    def as_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.__dict__.items()}


def find_sequences(root: Path, *, names: Sequence[str] | None = None) -> list[Path]:
    """The sequence folders of ``root`` (those with input/ and gt/), by name; ``names``: only these."""
    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"video: {root} is not a folder")
    found = {p.name: p for p in sorted(root.iterdir()) if (p / "input").is_dir() and (p / "gt").is_dir()}
    if names is not None:
        missing = [n for n in names if n not in found]
        if missing:
            raise ParameterError(f"sequences: {', '.join(missing)} not found in {root} (each needs input/ and gt/)")
        return [found[n] for n in names]
    if not found:
        raise ParameterError(f"video: {root} has no sequence folders with input/ and gt/")
    return list(found.values())


def sequence_frames(sequence: Path, *, limit: int | None = None) -> list[tuple[Path, Path]]:
    """(frame, mask) files of a sequence in name order, the frames with a mask; the first ``limit``."""
    frames = [(p, sequence / "gt" / f"{p.stem}.png") for p in sorted((sequence / "input").iterdir())
              if p.suffix.lower() in INPUT_SUFFIXES]
    frames = [(f, g) for f, g in frames if g.is_file()][:limit]
    if not frames:
        raise ParameterError(f"{sequence}: no frame in input/ has a mask in gt/")
    return frames


class _Track:
    """Running scores of one stream of mattes: per-frame IoU and the flicker's steps."""

    def __init__(self) -> None:
        self.ious: list[float] = []
        self.changes: list[float] = []
        self._last: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, alpha: np.ndarray, gt: np.ndarray) -> None:
        """alpha: (H, W) float32 in [0, 1]; gt: (H, W) bool."""
        truth = gt.astype(np.float32)
        self.ious.append(salient.iou(alpha, gt))
        if self._last is not None:
            self.changes.append(change_error(self._last[0], alpha, self._last[1], truth))
        self._last = (alpha, truth)

    @property
    def iou(self) -> float:
        return statistics.fmean(self.ious)

    @property
    def flicker(self) -> float:
        return statistics.fmean(self.changes) if self.changes else float("nan")


def _matte(image: np.ndarray, method: str, predict: Predict, options: VideoOptions) -> np.ndarray:
    if method == "raw":
        return np.clip(np.asarray(predict(image), dtype=np.float32), 0.0, 1.0)
    return frame_matte(image, predict, options).unedited


def evaluate_sequence(sequence: Path, predict: Predict, *, method: str = "fast",
                      options: VideoOptions | None = None, frames: int | None = None) -> SequenceRow:
    """Matte and score one sequence (see the module's description).

    method: "raw" or a refine mode (replacing ``options.matte.refine``); options: the video
    pipeline's (None: its defaults); frames: the first N only.
    """
    options = options or VideoOptions()
    if method not in METHODS:
        raise ParameterError(f"method: expected one of {', '.join(METHODS)}; got {method!r}")
    if method != "raw":
        options = replace(options, matte=replace(options.matte, refine=method))
    temporal = TemporalFilter(delay=options.delay, strength=options.smoothing)
    own, filtered = _Track(), _Track()
    waiting: deque[np.ndarray] = deque()  # masks of frames the filter still holds
    start = time.perf_counter()
    for frame, mask in sequence_frames(sequence, limit=frames):
        image = load_image(frame)
        gt = load_mask(mask) > 128
        if gt.shape != image.shape[:2]:
            raise ParameterError(f"{mask}: size differs from the frame's {image.shape[1]}×{image.shape[0]}")
        alpha = _matte(image, method, predict, options)
        own.add(alpha, gt)
        waiting.append(gt)
        done = temporal.push(image, alpha)
        if done is not None:
            filtered.add(done, waiting.popleft())
    last = temporal.finish()
    if last is not None:
        filtered.add(last, waiting.popleft())
    seconds = time.perf_counter() - start
    return SequenceRow(sequence.name, method, len(own.ious), own.iou, own.flicker, filtered.iou, filtered.flicker, seconds)


def evaluate_video(root: Path, predict: Predict, *, methods: Sequence[str] = ("fast",),
                   options: VideoOptions | None = None, frames: int | None = None,
                   sequences: Sequence[str] | None = None) -> Iterator[SequenceRow]:
    """Score every sequence of ``root`` (or those named) with each method; yields rows as they finish.

    predict: the model, ``(h, w, 3) float32 in [0, 1], RGB -> (h, w) float32 in [0, 1]``.
    options: the video pipeline's options (None: its defaults; each method replaces the refine
    mode); frames:
    the first N frames of each sequence.
    """
    unknown = [m for m in methods if m not in METHODS]
    if not methods or unknown:
        raise ParameterError(f"methods: expected names from {', '.join(METHODS)}; got {', '.join(methods) or 'none'}")
    if frames is not None and frames < 1:
        raise ParameterError(f"frames: expected a positive count; got {frames}")
    for sequence in find_sequences(root, names=sequences):
        for method in methods:
            yield evaluate_sequence(sequence, predict, method=method, options=options, frames=frames)


def overall(rows: Sequence[SequenceRow]) -> dict[str, dict[str, float]]:
    """``{method: {score: mean over sequences}}`` (sequences of one frame have no flicker and are left out of it)."""
    out: dict[str, dict[str, float]] = {}
    for method in dict.fromkeys(r.method for r in rows):
        chosen = [r for r in rows if r.method == method]
        out[method] = {"sequences": len(chosen), "frames": sum(r.frames for r in chosen)}
        for key in SCORES + ("seconds",):
            values = [getattr(r, key) for r in chosen if not math.isnan(getattr(r, key))]
            out[method][key] = statistics.fmean(values) if values else float("nan")
    return out



def write_csv(rows: Sequence[SequenceRow], path: Path) -> None:
    """Per-sequence rows (``sequence, method, frames, scores…, seconds``), then each method's
    ``mean`` row over sequences (see :func:`overall`)."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("sequence", "method", "frames") + SCORES + ("seconds",))
        for r in rows:
            writer.writerow([r.sequence, r.method, r.frames] + [_cell(getattr(r, k)) for k in SCORES] + [f"{r.seconds:.3f}"])
        for method, s in overall(rows).items():
            writer.writerow(["mean", method, s["frames"]] + [_cell(s[k]) for k in SCORES] + [f"{s['seconds']:.3f}"])


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6f}"
