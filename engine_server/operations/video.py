"""``video_start`` / ``video_frame`` / ``video_end``: a stream of frames matted in order, cancellable.

One stream is one job, opened by ``video_start`` (its id names the stream). Frames arrive as
``video_frame`` requests and are numbered in arrival order; each good one is answered by a
``frame`` message, in index order, one frame late (the temporal filter looks one frame
ahead, :class:`core.video.pipeline.VideoMatter`); ``video_end`` sends the frame still held and
ends the job with its ``result``. A frame that fails (it cannot be decoded, has another
size than the first, its plate cannot be aligned) gets an ``error`` of its own and no index;
the stream goes on.

Per frame, strictly in order: decoding on the CPU pool, the model stage
(:func:`core.subject.coarse.model_stage`) on the model worker, the per-frame matte on the CPU pool
(:func:`core.subject.refine.refine_stage`, or :func:`core.plate.pipeline.plate_stage` with a clean
plate) without edge controls or decontamination (:func:`core.video.pipeline.frame_options`),
then the temporal filter, edge controls, colours and the outputs' encoding on the CPU pool.

Scheduling. A stream does not keep a job runner (its kind is :data:`~engine_server.jobs.STREAM`):
the server starts its job on a task of its own, and each frame's work is submitted to the
engine's model worker and CPU pool, one piece at a time, like any other job's. Those
executors serve their submissions first come, first served, so another client's
interactive job waits behind at most one frame's stage of each running stream (tens of
milliseconds to a second), never behind the whole video; a stream that held its runner for
the video's length would leave, with two streams open, no runner at all for a Select
Subject. The stream's ``priority`` orders its start among queued jobs, like any job's.

Bounded state: at most ``limits.max_pending_frames`` frames received and not yet answered
(the waiting ones, the one in work, the one the filter holds); the next is ``busy``.
:class:`~core.video.pipeline.VideoMatter` holds two frames whatever the video's length.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from functools import partial

import numpy as np

from core.errors import ParameterError
from core.plate.align import PreparedPlate, prepare_plate
from core.subject.coarse import model_stage
from core.subject.options import MatteOptions
from core.video.pipeline import VideoFrame, VideoMatter, VideoOptions, frame_options, frame_refine, used_plate
from engine_server import memory
from engine_server.errors import ANSWERED, Busy, error_code
from engine_server.jobs import STREAM, Job, JobCancelled
from engine_server.operations.common import Reply, buffer, matte_outputs, model
from engine_server.operations.plate_matte import decoded_plate
from engine_server.operations.select_subject import options_from
from wire.protocol import messages

log = logging.getLogger(__name__)

TYPES = ("video_start",)
KIND = STREAM
CAPABILITIES = ("video",)


def prepare(ctx, job: Job, request: messages.Message) -> None:
    """Open the stream before its job is queued: ``video_frame`` and ``video_end`` reach it as the
    job's handle (:mod:`engine_server.operations.video_feed`), and a cancel wakes it."""
    job.handle = VideoStream(ctx.engine, request, ctx.clients[job.client].send)
    job.on_cancel = job.handle.wake


async def run(ctx, job: Job, request: messages.Message) -> Reply:
    return await job.handle.run(job)


def video_options(fields: dict) -> VideoOptions:
    """The stream's options from video_start's fields."""
    return VideoOptions(matte=options_from(fields), delay=bool(fields["delay"]), smoothing=float(fields["smoothing"]))


class VideoStream:
    """One video stream: its waiting frames and its filter's state.

    :meth:`feed` and :meth:`wake` are called on the event loop as messages arrive; :meth:`run`
    is the stream job's work. ``send`` sends a message to the
    stream's client (``frame`` and per-frame ``error`` messages).
    """

    def __init__(self, engine, request: messages.Message, send) -> None:
        self.engine = engine
        self.request = request
        self.id = request.id
        self.send = send
        self.inbox: deque[messages.Message] = deque()
        self.unanswered = 0
        """Frames received and not yet answered by a frame or an error."""
        self.ended = False
        self.size: tuple[int, int] | None = None
        self.timings: dict[str, float] = {}
        self._held: deque[tuple[str, float]] = deque()  # (video_frame id, confidence) of frames in the filter
        self._wake_event = asyncio.Event()
        self._sent = 0
        self.without_plate = 0  # frames the clean plate could not be aligned to (matted without it)
        self._memory: list[memory.Reservation] = []  # the stream's memory, held from its first frame to its end
        self._reserved_pixels = 0  # the frame size that memory was reserved for

    # ── on the event loop, as messages arrive ───────────────────────────────

    def feed(self, message: messages.Message) -> None:
        """Queue a ``video_frame``, or finish with the frames received at ``video_end``. Raises
        :class:`~engine_server.errors.Busy` when ``limits.max_pending_frames`` frames are unanswered already."""
        if message.type == "video_end":
            self.ended = True
            self.wake()
            return
        limit = self.engine.limits.max_pending_frames
        if self.unanswered >= limit:
            raise Busy(f"stream {self.id!r} has {self.unanswered} frames unanswered; at most "
                             f"max_pending_frames = {limit} may be: send the next after a frame comes back")
        self.unanswered += 1
        self.inbox.append(message)
        self.wake()

    def wake(self) -> None:
        """Let :meth:`run` look again (a frame came, the stream ended or was cancelled)."""
        self._wake_event.set()

    # ── the job's work ──────────────────────────────────────────────────────

    async def run(self, job: Job) -> Reply:
        """Open the stream, answer its frames as they come, finish at ``video_end``.

        Raises :class:`~engine_server.jobs.JobCancelled` once cancelled, one of
        :data:`~engine_server.errors.ANSWERED` when the stream itself fails
        (a plate that cannot be decoded, an unknown model).

        Memory: the stream holds one reservation from before its first decoding (the plate's,
        sized for frames of the plate's size, or else the first frame's) to its end, for a frame
        in work, the filter's state and the frames that may wait in its inbox.
        """
        try:
            return await self._run(job)
        finally:
            for held in self._memory:
                held.release()

    async def _reserve(self, job: Job, spec: messages.BufferSpec) -> None:
        """Hold the stream's memory for frames of ``spec``'s size (more if a first frame is
        bigger than the plate that sized it)."""
        pixels = spec.width * spec.height
        if pixels <= self._reserved_pixels:
            return
        fields = self.request.fields
        frame = (spec.format, spec.width, spec.height, self.engine.limits.max_pending_frames * 4 * pixels)
        plate = [(s.format, s.width, s.height, len(d)) for s, d in self.request.buffers[:1]]
        need = memory.job_estimate("video_start", fields, [frame, *plate])
        need -= sum(held.nbytes for held in self._memory)
        what = f"this video stream of {pixels / 1e6:.1f} MP frames at refine {fields['refine']}"
        self._memory.append(await self.engine.memory.acquire(need, job, what=what))
        self._reserved_pixels = pixels

    async def _run(self, job: Job) -> Reply:
        async with model(self.engine, job, self.request.fields) as session:  # held for the whole stream
            return await self._stream(job, session)

    async def _stream(self, job: Job, session) -> Reply:
        engine, fields = self.engine, self.request.fields
        options = video_options(fields)
        plate = mask = None
        if self.request.buffers:
            await self._reserve(job, self.request.buffers[0][0])
            def prepared() -> tuple[PreparedPlate, np.ndarray | None]:  # on the CPU pool, once for the stream
                plate, mask = decoded_plate(self.request, 0, engine=engine)
                return prepare_plate(plate), mask

            plate, mask = await engine.on_cpu(prepared)
        matter = VideoMatter(options)
        per_frame = frame_options(options.matte)
        while True:
            job.check()
            if self.inbox:
                await self._frame(job, self.inbox.popleft(), matter, per_frame, plate, mask, session)
            elif self.ended:
                break
            else:
                self._wake_event.clear()
                await self._wake_event.wait()
        started = time.perf_counter()
        done = await engine.on_cpu(self._encoded, matter.finish)
        self._lap("finish", started)
        await self._answer(job, done)
        fields = {"frames": self._sent, "timings": {k: round(v, 4) for k, v in self.timings.items()},
                  "device": session.device, "model": session.name}
        if plate is not None:
            fields["frames_without_plate"] = self.without_plate
        return Reply(fields)

    async def _frame(self, job: Job, message: messages.Message, matter: VideoMatter, per_frame: MatteOptions,
                     plate: PreparedPlate | None, mask: np.ndarray | None, session) -> None:
        """One video_frame: its matte through the workers, then the filter; a failure before the
        filter is an error for this frame alone."""
        engine = self.engine

        def check(fraction: float, stage: str) -> None:  # core's progress callback: stops a cancelled stream
            job.check()

        try:
            started = time.perf_counter()
            spec = message.buffers[0][0] if message.buffers else None
            if spec is not None and self.size is not None and spec.width * spec.height != self.size[0] * self.size[1]:
                raise ParameterError(f"image: expected a {self.size[1]}x{self.size[0]} frame, the size of the stream's "
                                     f"first frame; got {spec.width}x{spec.height}")
            if spec is not None and self.size is None:
                await self._reserve(job, spec)
            image = await engine.on_cpu(partial(buffer, message, 0, engine=engine))
            self._check_size(image)
            started = self._lap("decode", started)
            stage = await engine.on_cpu(partial(model_stage, image, engine.predict(session), per_frame, progress=check))
            started = self._lap("model", started)
            matte = await engine.on_cpu(partial(frame_refine, image, stage, matter.options, plate=plate, plate_mask=mask,
                                                progress=check))
            self.without_plate += plate is not None and not used_plate(matte)
            started = self._lap("plate" if plate is not None else "refine", started)
        except JobCancelled:
            raise
        except ANSWERED as exc:
            await self._refuse(message, error_code(exc), str(exc))
            return
        except Exception as exc:  # a bug on one frame: say so, keep the stream
            log.exception("stream %s, frame %s failed", self.id, message.id)
            await self._refuse(message, "internal", f"internal error: {exc}")
            return
        self._held.append((message.id, round(matte.confidence, 4)))
        push = partial(matter.push, image, matte.unedited, background=matte.background, known=matte.known)
        done = await engine.on_cpu(self._encoded, push)
        self._lap("finish", started)
        await self._answer(job, done)

    def _check_size(self, image: np.ndarray) -> None:
        """Every frame has the stream's first (decoded) frame's size; image (H, W, 3)."""
        h, w = image.shape[:2]
        if self.size is None:
            self.size = (h, w)
        elif self.size != (h, w):
            raise ParameterError(f"image: expected a {self.size[1]}x{self.size[0]} frame, the size of the stream's "
                                 f"first frame; got {w}x{h}")

    def _encoded(self, step) -> list[tuple[VideoFrame, list]]:
        """Run the filter ``step`` (push or finish, on the CPU pool) and encode the outputs of the
        frames it finished."""
        return [(f, matte_outputs(self.request.fields, alpha=f.alpha, foreground=f.foreground)) for f in step()]

    async def _answer(self, job: Job, done: list[tuple[VideoFrame, list]]) -> None:
        for finished, outputs in done:
            job.check()  # nothing follows a cancel
            frame_id, confidence = self._held.popleft()
            await self.send(messages.frame(self.id, index=finished.index, frame=frame_id, confidence=confidence,
                                           buffers=outputs))
            self.unanswered -= 1
            self._sent += 1

    async def _refuse(self, message: messages.Message, code: str, text: str) -> None:
        self.unanswered -= 1
        await self.send(messages.error(code, text, ref=message.id))

    def _lap(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - started
        return now
