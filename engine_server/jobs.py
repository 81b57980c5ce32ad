"""Jobs and the queue: an explicit lifecycle, priorities, per-client limits, cancellation.

Every request an operation answers is a job, of its operation's :class:`Kind`: an instant
job runs at once; queued and stream jobs wait on the :class:`JobQueue`. A job is queued →
running → done | failed | cancelled. Interactive jobs go
ahead of batch ones; each client may have at most ``max_per_client`` jobs
queued or running, and a full queue answers "busy" instead of growing.
Cancelling a queued job drops it; cancelling a running one sets its event, and
the work stops at its next progress report (core reports after every stage), or
when its ``on_cancel`` hook wakes it (a stream waiting for frames).
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


PRIORITIES = {"interactive": 0, "batch": 1}


@dataclass(frozen=True)
class Kind:
    """How an operation's jobs run (its module's ``KIND``, :mod:`engine_server.operations`). ``queued``:
    on the :class:`JobQueue`, else at once, before its connection's next message is read.
    ``holds_runner``: it takes a job runner (a stream does not: it lasts as long as its video)."""

    name: str
    queued: bool
    holds_runner: bool


INSTANT = Kind("instant", queued=False, holds_runner=False)
QUEUED = Kind("queued", queued=True, holds_runner=True)
STREAM = Kind("stream", queued=True, holds_runner=False)


class JobCancelled(Exception):
    """Raised inside a job's work when its cancel event is set."""


class QueueFull(Exception):
    """The client (or the engine) has too many jobs queued."""


@dataclass(eq=False)
class Job:
    """One request's work.

    ``kind``: the request's type. ``work`` is an async function of the job; it reports progress
    through :meth:`report`, which also raises :class:`JobCancelled` once cancelled.
    ``on_cancel`` is called on the event loop when the job is cancelled. ``handle``: the
    operation's own object for the job, which later requests reach (a video stream's frames).
    """

    id: str
    client: str
    kind: str
    priority: int
    work: Callable[["Job"], Awaitable[Any]]
    holds_runner: bool = True
    on_progress: Callable[[float, str], None] = lambda fraction, stage: None
    on_cancel: Callable[[], None] = lambda: None
    handle: Any = None
    state: JobState = JobState.QUEUED
    cancel_event: threading.Event = field(default_factory=threading.Event)
    cancelled_by: str | None = None
    """The id of the ``cancel`` request that stopped it (None: the engine cancelled it)."""

    def report(self, fraction: float, stage: str) -> None:
        """Progress callback for core (called from worker threads)."""
        if self.cancel_event.is_set():
            raise JobCancelled(self.id)
        self.on_progress(fraction, stage)

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled(self.id)


class JobQueue:
    """The queued jobs, with per-client and total limits (asyncio, single loop).

    Jobs wait in a list in submission order (at most ``max_total``, so a scan is cheap).
    :meth:`next` hands out the most urgent job a runner may start: the best priority
    first, then the job whose client has the fewest jobs running (so one client's
    burst cannot starve another's), then the oldest. ``runnable`` (see :meth:`next`)
    holds back the jobs of a client that cannot take more results now. A cancelled
    job leaves the list at once, so every count is exact whatever the order of
    submits, cancels and disconnects.
    """

    def __init__(self, *, max_per_client: int = 16, max_total: int = 256) -> None:
        self.max_per_client = max_per_client
        self.max_total = max_total
        self._waiting: list[Job] = []
        self._active: dict[str, dict[str, Job]] = {}
        self._ready = asyncio.Event()

    def active(self, client: str) -> dict[str, Job]:
        """The client's queued and running jobs by id."""
        return self._active.get(client, {})

    def submit(self, job: Job) -> int:
        """Queue ``job``; returns how many queued jobs are ahead of it. Raises :class:`QueueFull`."""
        mine = self.active(job.client)
        if job.id in mine:
            raise QueueFull(f"a job with id {job.id!r} is already queued or running")
        if len(mine) >= self.max_per_client:
            raise QueueFull(f"at most {self.max_per_client} jobs per client may be queued or running")
        if len(self._waiting) >= self.max_total:
            raise QueueFull(f"the engine has {len(self._waiting)} jobs queued; try again shortly")
        self._active.setdefault(job.client, {})[job.id] = job
        self._waiting.append(job)
        self._ready.set()
        return sum(1 for j in self._waiting if j is not job and j.priority <= job.priority)

    def wake(self) -> None:
        """Look at the queue again (a client held back by ``runnable`` may take jobs now)."""
        self._ready.set()

    async def next(self, runnable: Callable[[Job], bool] = lambda job: True) -> Job:
        """Wait for the most urgent queued job that ``runnable`` allows and mark it running."""
        while True:
            candidates = [j for j in self._waiting if runnable(j)]
            if candidates:
                job = min(candidates, key=lambda j: (j.priority, self.running(j.client)))  # min is stable: oldest first
                self._waiting.remove(job)
                job.state = JobState.RUNNING
                return job
            self._ready.clear()
            await self._ready.wait()

    def running(self, client: str) -> int:
        """How many of ``client``'s jobs are running."""
        return sum(1 for j in self.active(client).values() if j.state is JobState.RUNNING)

    def finish(self, job: Job, state: JobState) -> None:
        """Record the end of a job and free its client's slot."""
        job.state = state
        mine = self._active.get(job.client)
        if mine is not None and mine.get(job.id) is job:
            del mine[job.id]
            if not mine:
                del self._active[job.client]
        if job in self._waiting:
            self._waiting.remove(job)
        self._ready.set()  # a client below its fair share may be next

    def cancel(self, client: str, job_id: str, *, by: str | None = None) -> Job | None:
        """Cancel one of ``client``'s jobs (``by``: the ``cancel`` request's id); returns it, or None
        if it has none by that id.

        A queued job is finished as cancelled at once; a running job gets its
        event set and its ``on_cancel`` called, and is finished by its runner when the work stops.
        """
        job = self.active(client).get(job_id)
        if job is None:
            return None
        if by is not None:
            job.cancelled_by = by
        job.cancel_event.set()
        job.on_cancel()
        if job.state is JobState.QUEUED:
            self.finish(job, JobState.CANCELLED)
        return job

    def cancel_client(self, client: str) -> list[Job]:
        """Cancel everything a (disconnected) client has queued or running."""
        return [job for job_id in list(self.active(client)) if (job := self.cancel(client, job_id))]

    def counts(self) -> dict[str, int]:
        """{"queued": jobs waiting, "running": jobs started and not finished}."""
        running = sum(1 for jobs in self._active.values() for j in jobs.values() if j.state is JobState.RUNNING)
        return {"queued": len(self._waiting), "running": running}
