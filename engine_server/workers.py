"""The engine's worker threads: small jobs first, and a lane big jobs cannot take.

Jobs do their work in stages on worker threads (:meth:`engine_server.engine.Engine.on_cpu`,
``on_model``). With plain first-come pools a small job's stage waits behind whatever is
queued, and with every thread busy decoding or upsampling a 100 MP image a 0.01 s job
waits many seconds for work that is not its own. :class:`PriorityPool` runs the queued
calls of small jobs first, each kind in arrival order (a job is small by its memory
estimate, :data:`job_size`, set when the job's memory is reserved,
:mod:`engine_server.memory`), and keeps ``reserved`` of its
threads for calls of small jobs (at most ``small`` bytes): big jobs use the others, so a
small job never waits for more than the small jobs ahead of it. While a small job's call runs,
the threads running big jobs' calls drop to a lower scheduling priority, so that the small
call gets the cores; each such thread retires after its call and a fresh one at the normal
priority takes its place (an unprivileged process can lower a thread's priority but never raise
it again). With no small job about, big jobs run at the engine's own priority: a lower one
all the time made every 12 MP prompt 40 % slower than core whenever anything else on the
machine wanted a core.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
from concurrent.futures import Future
from contextvars import ContextVar
from typing import Any, Callable

job_size: ContextVar[int] = ContextVar("softcut_job_size", default=0)
"""The memory estimate in bytes of the job the current asyncio task works for (0: none, treated
as small); the order in which its calls run."""

SMALL_JOB_BYTES = 256 * 1024**2
"""A job estimated at most this (about 2 MP at refine none, 0.5 MP at best) is small."""


class PriorityPool:
    """``threads`` threads running submitted calls: those of small jobs (``priority`` at most ``small``)
    before those of big ones, each kind in the order submitted (so no big job waits behind a later
    one); the last ``reserved`` threads only take small jobs' calls.

    ``general_nice``: the scheduler niceness a thread running a big job's call drops to when a
    small job's call starts (Linux; ignored elsewhere and where not permitted), so that the small
    call takes the cores from the big job's stages instead of sharing them evenly. The dropped
    thread retires after its call; a thread started by the small call's thread (so at its
    priority) takes its place.
    """

    def __init__(self, threads: int, *, reserved: int = 0, small: int = SMALL_JOB_BYTES, general_nice: int = 0,
                 name: str = "softcut") -> None:
        if threads < 1 or not 0 <= reserved < threads:
            raise ValueError(f"threads, reserved: expected threads >= 1 and 0 <= reserved < threads; got {threads}, {reserved}")
        self.small = small
        self.general_nice = general_nice
        self._heap: list[tuple[bool, int, Future, Callable[..., Any], tuple]] = []
        """(big, arrival, future, fn, args): small first, then by arrival."""
        self._seq = itertools.count()
        self._ready = threading.Condition()
        self._closed = False
        self.name = name
        self._running_big: dict[int, bool] = {}
        """Native ids of the threads running a big job's call: whether each was dropped in priority."""
        self._retiring: dict[int, threading.Event] = {}
        """A dropped thread's id: the event its replacement waits for (set when it retires)."""
        self._spawned = itertools.count(threads)
        self._threads = [threading.Thread(target=self._work, args=(i >= threads - reserved,), name=f"{name}-{i}",
                                          daemon=True) for i in range(threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Future:
        """Queue ``fn(*args)``; its Future completes with the result or the exception."""
        future: Future = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the worker pool is shut down")
            heapq.heappush(self._heap, (priority > self.small, next(self._seq), future, fn, args))
            self._ready.notify_all()
        return future

    def _next(self, small_only: bool) -> tuple[bool, Future, Callable[..., Any], tuple] | None:
        """Under the lock: wait for a call this thread may take, (big, future, fn, args); None once shut down."""
        while True:
            if self._closed:
                return None
            if self._heap and (not small_only or not self._heap[0][0]):  # the head is small if any is
                big, _, future, fn, args = heapq.heappop(self._heap)
                return big, future, fn, args
            self._ready.wait()

    def _drop_big(self) -> None:
        """Under the lock, on a thread starting a small job's call: lower the priority of the threads
        running big jobs' calls (once each) and start their replacements, which wait for them to retire."""
        for native_id, dropped in list(self._running_big.items()):
            if dropped:
                continue
            try:
                os.setpriority(os.PRIO_PROCESS, native_id, self.general_nice)
            except (AttributeError, OSError):  # not Linux, or not permitted: all threads share alike
                return
            self._running_big[native_id] = True
            retired = self._retiring[native_id] = threading.Event()
            thread = threading.Thread(target=self._work, args=(False, retired), daemon=True,
                                      name=f"{self.name}-{next(self._spawned)}")
            thread.start()

    def _work(self, small_only: bool, after: threading.Event | None = None) -> None:
        if after is not None:  # a replacement: the thread it replaces is still finishing its call
            after.wait()
        me = threading.get_native_id()
        while True:
            with self._ready:
                taken = self._next(small_only)
                if taken is None:
                    return
                big, future, fn, args = taken
                del taken
                if big:
                    self._running_big[me] = False
                elif self.general_nice and self._running_big:
                    self._drop_big()
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as exc:  # the caller gets it
                        future.set_exception(exc)
            finally:
                del future, fn, args  # an idle thread must not keep the last call's arrays alive
                with self._ready:
                    dropped = self._running_big.pop(me, False) if big else False
                    retired = self._retiring.pop(me, None) if dropped else None
            if retired is not None:  # this thread's priority is lowered for good: its replacement goes on
                retired.set()
                return

    def shutdown(self) -> None:
        """Stop the threads after their current call; queued calls are cancelled."""
        with self._ready:
            self._closed = True
            for _, _, future, _, _ in self._heap:
                future.cancel()
            self._heap.clear()
            self._ready.notify_all()
