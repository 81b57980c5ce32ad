"""Mattes for a sequence of frames: per-frame Select Subject (or clean-plate matting),
then the temporal filter, then edge controls and colours.

The per-frame matte is computed without edge controls or decontamination
(:func:`frame_options`); the temporal filter (:mod:`core.video.temporal`) works on the
unedited full-size matte; each finished frame then gets the user's edge controls and
decontamination (:func:`core.subject.finish.finish_edges`). :class:`VideoMatter` is a stream:
``push`` a frame's image and unedited matte, get back the frames that are finished (one
frame of latency); it holds two frames, whatever the video's length.

:func:`matte_frames` chains it all for callers that hold the model in-process (the CLI,
the benchmarks); the engine runs the per-frame stages on its own workers and uses
:class:`VideoMatter` for the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from core.edges import EdgeControls
from core.errors import AlignmentError, ParameterError
from core.plate.align import PreparedPlate, prepare_plate
from core.plate.pipeline import plate_stage
from core.subject.coarse import Coarse, model_stage
from core.subject.finish import finish_edges
from core.subject.options import MatteOptions
from core.subject.refine import refine_stage
from core.subject.result import Matte
from core.subject.stopwatch import Progress
from core.video.temporal import TemporalFilter

log = logging.getLogger(__name__)

DEFAULT_VIDEO_REFINE = "fast"
"""Video defaults to the guided filter: the solver's per-frame differences flicker more and cost more."""


@dataclass(frozen=True)
class VideoOptions:
    """How a frame sequence is matted.

    matte: per-frame refinement, edge controls and decontamination (as Select Subject's).
    delay: MODNet's one-frame-delay correction.
    smoothing: the carried previous matte's share where motion compensation trusts it,
        in [0, 1); 0 turns motion-compensated smoothing off.
    """

    matte: MatteOptions = field(default_factory=lambda: MatteOptions(refine=DEFAULT_VIDEO_REFINE))
    delay: bool = True
    smoothing: float = 0.8

    def __post_init__(self) -> None:
        if not 0.0 <= self.smoothing < 1.0:
            raise ParameterError(f"smoothing: expected a value in [0, 1); got {self.smoothing}")


def frame_options(options: MatteOptions) -> MatteOptions:
    """The per-frame options: ``options`` without edge controls or decontamination, which
    are applied after the temporal filter."""
    return replace(options, edges=EdgeControls(), decontaminate=0.0)


@dataclass
class VideoFrame:
    """One finished frame.

    index: its position in the sequence (from 0).
    image: (H, W, 3) float32 in [0, 1], RGB, the frame.
    alpha: (H, W) float32 in [0, 1], the temporally filtered matte with edge controls.
    foreground: (H, W, 3) float32 in [0, 1], RGB, decontaminated colours.
    unedited: (H, W) float32 in [0, 1], the filtered matte before edge controls.
    """

    index: int
    image: np.ndarray
    alpha: np.ndarray
    foreground: np.ndarray
    unedited: np.ndarray


class VideoMatter:
    """Stream: per-frame unedited mattes in, finished frames out, in order.

    ``push(image, unedited)`` returns the frames finished by it (the one before, once the
    stream has started); ``finish()`` returns the last. ``seed`` restarts a stream in the
    middle (resuming an interrupted run) from the frame before. ``timings`` sums the
    seconds spent in the temporal filter ("temporal") and the edges and colours ("edges").
    """

    def __init__(self, options: VideoOptions = VideoOptions()) -> None:
        self.options = options
        self._filter = TemporalFilter(delay=options.delay, strength=options.smoothing)
        self._waiting: list[tuple[int, np.ndarray, np.ndarray | None, np.ndarray | None]] = []
        self._next = 0
        self.timings = {"temporal": 0.0, "edges": 0.0}

    def seed(self, index: int, image: np.ndarray, unedited: np.ndarray, output: np.ndarray) -> None:
        """Continue a sequence after frame ``index - 1``: its ``image`` (H, W, 3), its own
        per-frame ``unedited`` matte and the ``output`` matte it was given (H, W), float32
        in [0, 1]. The next pushed frame gets ``index``."""
        if self._waiting or self._next:
            raise ParameterError("seed: only a new stream can be seeded")
        self._filter.seed(image, unedited, output)
        self._next = index

    def push(self, image: np.ndarray, unedited: np.ndarray, *, background: np.ndarray | None = None,
             known: np.ndarray | None = None) -> list[VideoFrame]:
        """Take the next frame: image (H, W, 3) and its per-frame matte before edge
        controls (H, W), float32 in [0, 1]; background (H, W, 3) float32 and known (H, W)
        bool where a clean plate gives the true background (None without one)."""
        self._waiting.append((self._next, image, background, known))
        self._next += 1
        start = time.perf_counter()
        alpha = self._filter.push(image, unedited)
        self.timings["temporal"] += time.perf_counter() - start
        return self._finished(alpha)

    def finish(self) -> list[VideoFrame]:
        """The frames still held (the last one); the stream is then empty."""
        start = time.perf_counter()
        alpha = self._filter.finish()
        self.timings["temporal"] += time.perf_counter() - start
        return self._finished(alpha)

    def _finished(self, alpha: np.ndarray | None) -> list[VideoFrame]:
        if alpha is None:
            return []
        index, image, background, known = self._waiting.pop(0)
        matte = self.options.matte
        start = time.perf_counter()
        edged, colours = finish_edges(image, alpha, matte.edges, matte.decontaminate, background=background, known=known)
        self.timings["edges"] += time.perf_counter() - start
        return [VideoFrame(index, image, edged, colours, alpha)]


def frame_matte(image: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], options: VideoOptions,
                *, plate: np.ndarray | PreparedPlate | None = None, plate_mask: np.ndarray | None = None) -> Matte:
    """One frame's own matte, before edge controls and decontamination: the model stage,
    then :func:`frame_refine`.

    image: (H, W, 3) float32 in [0, 1], RGB; plate: (Hp, Wp, 3) float32 in [0, 1], a clean
    plate of the scene, plate_mask (Hp, Wp) bool (see :func:`frame_refine`).
    """
    stage = model_stage(image, predict, frame_options(options.matte))
    return frame_refine(image, stage, options, plate=plate, plate_mask=plate_mask)


def frame_refine(image: np.ndarray, stage: Coarse, options: VideoOptions, *,
                 plate: np.ndarray | PreparedPlate | None = None, plate_mask: np.ndarray | None = None,
                 progress: Progress | None = None) -> Matte:
    """The second half of a frame's own matte (after :func:`core.subject.coarse.model_stage` with
    :func:`frame_options`), before edge controls and decontamination.

    image: (H, W, 3) float32 in [0, 1], RGB. With a clean plate (plate (Hp, Wp, 3) float32 in
    [0, 1], or the same from :func:`core.plate.align.prepare_plate`, which a caller matting many
    frames makes once; plate_mask (Hp, Wp) bool), the plate is aligned to the frame (the camera may move)
    and the frame matted with it (:func:`core.plate.pipeline.plate_stage`). A frame the plate
    cannot be aligned to (the subject hides most of the scene's features) is matted without
    it: its Matte's ``background`` is None, which callers count (:func:`used_plate`).
    """
    per_frame = frame_options(options.matte)
    if plate is not None:
        try:
            return plate_stage(image, plate, stage, per_frame, plate_mask=plate_mask, progress=progress)
        except AlignmentError as exc:
            log.info("frame matted without the clean plate: %s", exc)
    return refine_stage(image, stage, per_frame, progress=progress)


def used_plate(matte: Matte) -> bool:
    """Whether a frame's matte (from :func:`frame_refine`) was made with the clean plate."""
    return matte.background is not None


def matte_frames(images: Iterable[np.ndarray], predict: Callable[[np.ndarray], np.ndarray],
                 options: VideoOptions = VideoOptions(), *, plate: np.ndarray | PreparedPlate | None = None,
                 plate_mask: np.ndarray | None = None, matter: VideoMatter | None = None) -> Iterator[VideoFrame]:
    """The finished frames of ``images`` ((H, W, 3) float32 RGB in [0, 1] each), in order,
    one frame behind the input. ``matter``: a (seeded) stream to continue."""
    matter = matter or VideoMatter(options)
    plate = None if plate is None else prepare_plate(plate)
    for image in images:
        matte = frame_matte(image, predict, options, plate=plate, plate_mask=plate_mask)
        yield from matter.push(image, matte.unedited, background=matte.background, known=matte.known)
    yield from matter.finish()
