"""The engine's memory budget: each job's peak estimated from its pixels and mode, and
admitted only while the running jobs' estimates fit.

The pixel limit (``limits.max_pixels``) bounds one image; the budget bounds the engine. A
request's size is known from its buffer specs (the codec has checked a PNG's or JPEG's
header against them) before anything is decoded, so a job that could never fit is refused
at once (``image_too_large``) and one that does not fit now waits, first come first
served, without holding a decoded image.

What ``softcut serve --memory SIZE`` covers: the jobs' working memory (this budget) and the
result caches (:attr:`engine_server.engine.Engine.results`, ``coarse_cache``), which get
a quarter of it at most. The default model's own memory (weights and inference, about 1.3 GB
for IS-Net on the CPU) is on top, as is Python's own (~0.2 GB); other models a request names,
loaded while in use (:mod:`engine_server.sessions`), are counted in the budget (:meth:`MemoryBudget.hold`).
``status`` reports the split.

Estimates are bytes per pixel of the image and of its working image (bounded, e.g. 1 MP)
per operation and mode, plus the request's own payload bytes, from :data:`COSTS` and
:data:`OUTPUT_BYTES_PER_PIXEL`:
upper bounds of peaks measured in a child process per case (bench/bench_memory.py,
docs/benchmarks.md "Engine memory per job"), on the worst image for the matte's soft pixels.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import os
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from core.errors import ImageTooLargeError, ParameterError
from wire.protocol.schemas import REQUEST_TYPES, defaults
from engine_server.workers import job_size

log = logging.getLogger(__name__)

GIB = 1024**3
MIB = 1024**2

DEFAULT_FRACTION = 0.5
"""The default ``--memory``: this fraction of the machine's physical memory."""
FALLBACK_MEMORY = 4 * GIB
"""The default ``--memory`` where the physical memory cannot be read."""
CACHE_FRACTION = 0.25
"""The result caches get at most this share of ``--memory``; the jobs the rest."""
EXPRESS_FRACTION = 0.125
"""Jobs needing at most this share of the budget may start ahead of a bigger job that waits
(see :class:`MemoryBudget`)."""
POLL_S = 0.05
"""How often a waiting job looks at its cancel flag."""

@dataclass(frozen=True)
class Cost:
    """A stage's peak bytes: ``per_pixel`` for each pixel of the image and ``per_working`` for each
    pixel of its working image (at most ``working`` pixels: the model's input, the solver's)."""

    per_pixel: float
    per_working: float = 0.0
    working: int = 1_000_000

    def bytes(self, pixels: int) -> float:
        return self.per_pixel * pixels + self.per_working * min(pixels, self.working)


BASE_BYTES = 32 * MIB
"""Every job's own small change (Python objects, a worker thread's malloc arena)."""

COSTS: dict[tuple[str, str], Cost] = {
    # (operation, mode): its peak without the outputs' bytes (OUTPUT_BYTES_PER_PIXEL)
    ("select_subject", "none"): Cost(18.0, 160.0),
    ("select_subject", "fast"): Cost(18.0, 170.0),
    ("select_subject", "best"): Cost(21.0, 480.0, 600_000),
    ("select_subject", "colours"): Cost(20.0, 60.0),  # added when foreground or cutout is asked for
    ("trimap", "best"): Cost(17.0, 100.0, 600_000),
    ("refine", "fast"): Cost(20.0, 170.0),
    ("refine", "best"): Cost(20.0, 1150.0, 600_000),  # the solver's system with A^T A formed (was 950)
    ("refine", "colours"): Cost(20.0, 60.0),
    ("select_object", "prepare"): Cost(19.0, 40.0),  # the kept image, u8 and float, and the model's view
    ("select_object", "none"): Cost(11.0, 30.0),  # previous, mask, the cut at full size, the edged alpha
    ("select_object", "fast"): Cost(14.0, 40.0),
    ("select_object", "best"): Cost(14.0, 200.0, 600_000),
    ("adjust_edges", "alpha"): Cost(10.0),
    ("adjust_edges", "colours"): Cost(20.0, 150.0),
    ("soft_segments", "best"): Cost(100.0, 200.0),
    ("plate_matte", "plate"): Cost(40.0),  # per plate pixel, on top of select_subject's (not measured)
    ("video", "state"): Cost(32.0),  # a stream's filter state: two frames' image and alpha (not measured)
}
"""Upper bounds of measured job peaks (docs/benchmarks.md: each ≥ 1.15 × the largest of its
peaks measured at 4 to 36 MP, ≥ 1 × at 0.5 MP), see the module's docstring."""

OUTPUT_BYTES_PER_PIXEL = {"alpha": 1.0, "foreground": 3.0, "cutout": 4.0, "trimap": 1.0, "coarse": 0.0,
                          "background": 3.0}
"""The encoded outputs a finished job holds (raw 8-bit pixels; a PNG is no larger, bar a few bytes)."""


def physical_memory() -> int | None:
    """The machine's physical memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def default_memory() -> int:
    """The default ``--memory``: :data:`DEFAULT_FRACTION` of physical memory, whole MiB."""
    total = physical_memory()
    return FALLBACK_MEMORY if not total else int(total * DEFAULT_FRACTION) // MIB * MIB


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'6G', '800M', '1.5g', '512MiB' or a byte count → bytes (K, M, G, T are powers of 1024)."""
    found = _SIZE.match(str(text))
    if not found:
        raise ParameterError(f"memory: expected a size such as 6G or 800M; got {text!r}")
    value = float(found.group(1)) * 1024 ** " kmgt".index(found.group(2).lower() or " ")
    if value < 64 * MIB:
        raise ParameterError(f"memory: expected at least 64M; got {text!r}")
    return int(value)


def format_size(nbytes: float) -> str:
    """Bytes as '7.1 GB' or '800 MB' (powers of 1024, as --memory reads them)."""
    return f"{nbytes / GIB:.1f} GB" if nbytes >= GIB else f"{nbytes / MIB:.0f} MB"


def split(memory: int, cache_bytes: int) -> tuple[int, int]:
    """``--memory`` → (bytes for the result cache, bytes for jobs). The result cache gets
    ``cache_bytes`` but at most :data:`CACHE_FRACTION` of it, less the model-stage cache's
    eighth on top of it; the jobs get the rest."""
    cache = min(cache_bytes, int(memory * CACHE_FRACTION / 1.125))
    return cache, memory - cache - cache // 8


def job_estimate(op: str, fields: Mapping[str, Any], buffers: Iterable[tuple[str, int, int, int]], *,
                 result_pixels: int = 0) -> int:
    """The peak bytes a job may hold above the engine's baseline: :data:`BASE_BYTES`, its
    payload, the :data:`COSTS` of its stages and :data:`OUTPUT_BYTES_PER_PIXEL` of its outputs.

    op: the request type (``video_start``: one frame of a stream with the stream's state);
    fields: the request's fields (absent ones: their schema's defaults); buffers: (format, width,
    height, payload bytes) of each buffer; result_pixels: ``adjust_edges``: the stored result's pixels,
    ``select_object``: the prepared image's (0: the image comes with the request).
    """
    fields = _with_defaults(op, fields)
    buffers = list(buffers)
    payload = sum(size for _, _, _, size in buffers)
    pixels = buffers[0][1] * buffers[0][2] if buffers else result_pixels
    outputs = list(fields.get("outputs", ()))
    colours = bool({"foreground", "cutout"} & set(outputs))
    stages: list[Cost] = []
    if op in ("select_subject", "plate_matte", "video_start"):
        stages.append(_cost("select_subject", fields["refine"]))
        if colours or op != "select_subject":  # plates and streams decontaminate as they go
            stages.append(COSTS["select_subject", "colours"])
        if op == "video_start":
            stages.append(COSTS["video", "state"])
    elif op == "phone_cut":  # model stage, preview, then the full-size best cut-out in the background
        stages += [COSTS["select_subject", "best"], COSTS["select_subject", "colours"]]
        outputs = ["cutout", "cutout"]  # the RGBA cut-out and its PNG
    elif op == "trimap":
        stages.append(COSTS["trimap", "best"])
        outputs = ["trimap"]
    elif op == "refine":  # the guide is decoded before its size is compared with the image's
        pixels = max(width * height for _, width, height, _ in buffers) if buffers else 0
        stages.append(_cost("refine", fields["mode"]))
        if colours:
            stages.append(COSTS["refine", "colours"])
    elif op == "adjust_edges":
        stages.append(COSTS["adjust_edges", "colours" if colours else "alpha"])
    elif op == "select_object":  # a prepared image (result_pixels) comes without its buffer
        pixels = max([width * height for _, width, height, _ in buffers] + [result_pixels])
        if not result_pixels:
            stages.append(COSTS["select_object", "prepare"])
        stages.append(_cost("select_object", fields["refine"]))
        if colours:
            stages.append(COSTS["refine", "colours"])
    elif op == "soft_segments":
        stages.append(COSTS["soft_segments", "best"])
        outputs = ["cutout"] * int(fields["count"])
    else:
        raise ParameterError(f"op: no memory estimate for {op!r}")
    total = BASE_BYTES + payload + sum(stage.bytes(pixels) for stage in stages)
    total += sum(OUTPUT_BYTES_PER_PIXEL.get(name, 0.0) for name in outputs) * pixels
    if op in ("plate_matte", "video_start") and len(buffers) > 1:  # a clean plate beside the image
        total += COSTS["plate_matte", "plate"].bytes(buffers[1][1] * buffers[1][2])
    return int(math.ceil(total))


def _with_defaults(op: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` and, for those absent, the request type's documented defaults (:func:`wire.protocol.schemas.defaults`)."""
    return {**(defaults(op) if op in REQUEST_TYPES else {}), **fields}


def _cost(op: str, mode: Any) -> Cost:
    """``COSTS[op, mode]``; an unknown mode (refused later, when the request is read) costs the most."""
    found = COSTS.get((op, str(mode)))
    return found or max((c for (o, m), c in COSTS.items() if o == op and m != "colours"), key=lambda c: c.bytes(10**8))


def request_estimate(op: str, request: Any, *, result_pixels: int = 0) -> int:
    """:func:`job_estimate` for a decoded protocol message."""
    # a grey buffer sent as its box (``within``) is placed in a whole image: its bytes are counted as that image's
    buffers = [(spec.format, *spec.full_size, len(data) + (spec.full_pixels if spec.within else 0))
               for spec, data in request.buffers]
    return job_estimate(op, request.fields, buffers, result_pixels=result_pixels)


def describe(op: str, request: Any, *, result_pixels: int = 0) -> str:
    """'this 100 MP image at refine best', for the budget's messages."""
    pixels = request.buffers[0][0].full_pixels if request.buffers else result_pixels
    fields = _with_defaults(op, request.fields)
    mode = (f" at mode {fields['mode']}" if op == "refine" else " at refine best" if op == "phone_cut"
            else f" at refine {fields['refine']}" if "refine" in fields else "")
    return f"this {pixels / 1e6:.1f} MP {op}{mode}"


class MemoryTooLarge(ImageTooLargeError):
    """A job needs more memory than the engine's whole budget (protocol code ``image_too_large``)."""


@dataclass(eq=False)
class _Waiter:
    nbytes: int
    granted: asyncio.Future


class Reservation:
    """Bytes held by one job; :meth:`release` (idempotent) gives them back."""

    def __init__(self, budget: MemoryBudget, nbytes: int, express: bool) -> None:
        self.budget = budget
        self.nbytes = nbytes
        self.express = express
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.budget._give_back(self)


class MemoryBudget:
    """Admit jobs while the sum of their estimates stays within ``total`` bytes.

    Waiting is first come, first served: a job that does not fit waits, and jobs after it
    wait behind it, so a big job is never starved by a stream of smaller ones. One
    exception keeps the engine responsive while big jobs wait: a job needing at most
    ``express`` bytes (:data:`EXPRESS_FRACTION` of the budget) may start ahead of the
    waiting ones when it fits now and the jobs started that way hold at most ``express``
    bytes in all, and only when the first waiting job would still fit beside them (so they
    cannot delay it for longer than they run). ``cache_bytes`` and ``memory``: what the
    caches got and the ``--memory`` it was split from, for messages.
    """

    def __init__(self, total: int, *, express: int | None = None, cache_bytes: int = 0,
                 memory: int | None = None) -> None:
        if total < 1:
            raise ParameterError(f"total: expected bytes > 0; got {total}")
        self.total = total
        self.express = int(total * EXPRESS_FRACTION) if express is None else express
        self.cache_bytes = cache_bytes
        self.memory = total + cache_bytes if memory is None else memory
        self.used = 0
        self.express_used = 0
        self.peak = 0
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self.reclaim: Callable[[], bool] | None = None
        """Called while a job would have to wait: gives back one share of memory held only for later
        use (an idle extra model, :class:`engine_server.sessions.Models`) and says True, or False
        when there is none left."""

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.granted.done())

    def state(self) -> dict[str, int]:
        """For ``status``: the split of --memory and what is in use now."""
        return {"memory": self.memory, "jobs": self.total, "caches": self.cache_bytes, "in_use": self.used,
                "peak_in_use": self.peak, "waiting": self.waiting}

    def check(self, nbytes: int, what: str) -> None:
        """Raise :class:`MemoryTooLarge` when ``nbytes`` could never fit."""
        if nbytes > self.total:
            needed = math.ceil((nbytes + self.memory - self.total) / GIB)
            raise MemoryTooLarge(
                f"{what} needs about {format_size(nbytes)}; the engine's memory budget for jobs is "
                f"{format_size(self.total)} (--memory {format_size(self.memory)}, less the caches): start it with "
                f"--memory {needed}G or send a smaller image")

    @asynccontextmanager
    async def reserve(self, nbytes: int, job: Any = None, *, what: str = "this job") -> AsyncIterator[Reservation]:
        """Hold ``nbytes`` for the ``async with`` block, waiting until they fit.

        Raises :class:`MemoryTooLarge` at once when they never can, and the job's
        :class:`~engine_server.jobs.JobCancelled` when it is cancelled while waiting.
        """
        reservation = await self.acquire(nbytes, job, what=what)
        try:
            yield reservation
        finally:
            reservation.release()

    async def acquire(self, nbytes: int, job: Any = None, *, what: str = "this job") -> Reservation:
        """:meth:`reserve` without the block: the caller releases the :class:`Reservation`."""
        nbytes = max(0, int(nbytes))
        self.check(nbytes, what)
        waiter = _Waiter(nbytes, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        self._admit()
        while not waiter.granted.done() and self.reclaim is not None and self.reclaim():
            pass  # each share given back admits the waiters that then fit
        if not waiter.granted.done():
            log.info("%s waits for %s of memory (%s of %s in use, %d waiting)", what, format_size(nbytes),
                     format_size(self.used), format_size(self.total), self.waiting)
        try:
            while not waiter.granted.done():
                await asyncio.wait({waiter.granted}, timeout=POLL_S)
                if job is not None and not waiter.granted.done():
                    job.check()  # raises JobCancelled
        except BaseException:
            self._withdraw(waiter)
            raise
        job_size.set(max(job_size.get(), nbytes))  # this task's calls on the workers run in size order
        return waiter.granted.result()

    def hold(self, nbytes: int, *, what: str) -> Reservation:
        """Count ``nbytes`` as used at once, without waiting (a loaded model's share: jobs admitted
        after it see less room); the caller releases the :class:`Reservation`. Never waiting, it
        cannot wait for the jobs that wait for it. Raises :class:`MemoryTooLarge` when ``nbytes``
        could never fit."""
        nbytes = max(0, int(nbytes))
        self.check(nbytes, what)
        self.used += nbytes
        self.peak = max(self.peak, self.used)
        return Reservation(self, nbytes, False)

    def _withdraw(self, waiter: _Waiter) -> None:
        """A waiter leaves (cancelled): give back what it may have been granted meanwhile."""
        if waiter.granted.done() and not waiter.granted.cancelled():
            waiter.granted.result().release()
        else:
            waiter.granted.cancel()
            self._admit()

    def _fits(self, nbytes: int) -> bool:
        return self.used + nbytes <= self.total

    def _admit(self) -> None:
        """Start every waiter the rules allow, in order (see the class docstring)."""
        head: _Waiter | None = None
        for waiter in list(self._waiters):
            if waiter.granted.done():
                self._waiters.remove(waiter)
                continue
            if head is None and self._fits(waiter.nbytes):
                self._grant(waiter, express=False)
            elif head is None:
                head = waiter
            elif (waiter.nbytes <= self.express and self.express_used + waiter.nbytes <= self.express
                  and self._fits(waiter.nbytes) and head.nbytes + self.express <= self.total):
                self._grant(waiter, express=True)

    def _grant(self, waiter: _Waiter, *, express: bool) -> None:
        self._waiters.remove(waiter)
        self.used += waiter.nbytes
        self.peak = max(self.peak, self.used)
        if express:
            self.express_used += waiter.nbytes
        waiter.granted.set_result(Reservation(self, waiter.nbytes, express))

    def _give_back(self, reservation: Reservation) -> None:
        self.used -= reservation.nbytes
        if reservation.express:
            self.express_used -= reservation.nbytes
        self._admit()
