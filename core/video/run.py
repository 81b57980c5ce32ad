"""One ``softcut video`` run: frames from a source (:mod:`core.video.sources`) through a model and
:class:`core.video.pipeline.VideoMatter`, into the resumable store (:mod:`core.video.resume`), then the
outputs (:mod:`core.video.encode`).

A stopped run resumes after its last finished frame (:meth:`VideoMatter.seed`), which gives the
same frames as a run never stopped. Videos are encoded at the end from the store's PNGs; a work
folder is then removed, and the run recorded as finished (:mod:`core.video.finished`), so the same
run asked again is found done (:func:`finished_before`).

:meth:`VideoRun.matte` may run in a worker thread while the caller's thread stays free for Ctrl-C:
:meth:`VideoRun.stop` then makes it stop before its next frame, with no frame written after.
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict

import numpy as np

from core.composite import cutout_rgba
from core.plate.align import prepare_plate
from core.video.encode import Output, check_outputs, encode_video
from core.video.finished import finished_frames, remove_record, write_record
from core.video.pipeline import VideoMatter, VideoOptions, frame_matte, used_plate
from core.video.resume import FrameStore, store_folder

STAGES = ("decode", "model", "refine", "temporal", "edges_colours", "write")
"""Where a run's time goes (:attr:`VideoRun.timings`, seconds summed over frames): "model"
includes resizing to the working size; "refine" the trimap, refinement and upsampling; "write"
the RGBA conversion and PNG encoding."""
DEFAULT_FPS = 25.0


class RunStopped(Exception):
    """:meth:`VideoRun.matte` stopped because :meth:`VideoRun.stop` was called."""


def run_fingerprint(fingerprint: dict, options: VideoOptions) -> dict:
    """What changes a run's result: the caller's ``fingerprint`` (the model, the plate) and ``options``."""
    return {**fingerprint, "video_options": _jsonable(asdict(options))}


def finished_before(source, outputs: list[Output], options: VideoOptions, *, fingerprint: dict) -> int | None:
    """The frames of an earlier run of ``source`` with the same options (as :class:`VideoRun` takes them)
    that finished writing ``outputs``, all still as it left them; None when there is none. Cheap: no model."""
    return finished_frames(outputs, source.info.identity(), run_fingerprint(fingerprint, options), source.info.name)


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
        self.fingerprint = run_fingerprint(fingerprint, options)
        folder, work = store_folder(outputs)
        self.store = FrameStore(folder, work=work)
        self.resumed_from = 0
        self.without_plate = 0  # frames of this run the plate could not be aligned to
        self.timings: dict[str, float] = {}
        self._stop = threading.Event()
        self._writing = threading.Lock()  # held while a frame is written

    @property
    def done(self) -> int:
        return self.store.done

    @property
    def matted(self) -> int:
        """Frames matted by this run (the rest were done by the run it resumed)."""
        return self.store.done - self.resumed_from

    def begin(self) -> int:
        """Open the store; returns the frames an earlier run of the same input and options did."""
        remove_record(self.outputs)  # the outputs are being rewritten: no longer a finished run
        self.resumed_from = self.store.begin(self.source.info.identity(), self.fingerprint, restart=self.restart)
        return self.resumed_from

    def open_frames(self) -> Iterator[np.ndarray]:
        """The frames :meth:`matte` reads (from the one before the first not done), their decoding started
        in the calling thread: a video's ffmpeg process is started here, so a caller that mattes in a
        worker thread starts it from its main thread (forking from another thread is unsafe with numba's
        threading layer, which says so)."""
        if self.store.finished:
            return iter(())
        frames = self.source.frames(max(0, self.store.done - 1))
        try:
            first = next(frames)
        except StopIteration:
            return iter(())
        return itertools.chain([first], frames)

    def matte(self, progress: Callable[[int, int | None], None] | None = None,
              frames: Iterator[np.ndarray] | None = None) -> None:
        """Matte the frames not done yet, writing each as it is finished.
        ``progress(done, total)`` after each frame (total None when unknown); ``frames``: from
        :meth:`open_frames` (default: opened here).

        Raises RunStopped when :meth:`stop` was called (from another thread)."""
        if self.store.finished:
            return
        matter = VideoMatter(self.options)
        start = self.store.done
        frames = self.open_frames() if frames is None else frames
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
            if self._stop.is_set():
                raise RunStopped(f"stopped after {self.store.done} frames")
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

    def stop(self, *, wait: float = 0.5) -> None:
        """Make :meth:`matte`, running in another thread, stop before its next frame (raising RunStopped
        there). Once the frame being written, if any, is written (waited for up to ``wait`` seconds), no
        other is: ``done`` stays as it is. A model run in progress is the caller's to end (the session's
        ``interrupt``)."""
        self._stop.set()
        if self._writing.acquire(timeout=wait):
            self._writing.release()

    def _write(self, frames, progress) -> None:
        for frame in frames:
            rgba = cutout_rgba(frame.foreground, frame.alpha)
            with self._writing:
                if self._stop.is_set():
                    raise RunStopped(f"stopped after {self.store.done} frames")
                self.store.write(frame.index, self.source.info.name(frame.index), rgba, frame.unedited)
            if progress is not None:
                progress(self.store.done, self.source.info.frames)

    def write_outputs(self, progress: Callable[[str], None] | None = None) -> list[str]:
        """Copy the frames into further folder outputs, encode the video outputs, close the store (a
        work folder is removed) and record the run as finished. ``progress(path)`` before each output.
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
        done = self.store.done
        self.store.close()
        write_record(self.outputs, self.source.info.identity(), self.fingerprint, done, info.name)
        return [str(o.path) for o in self.outputs]


def _jsonable(value):
    """Dataclass dicts as JSON would give them back (tuples as lists), for comparing states."""
    return json.loads(json.dumps(value))
