"""Engine requests off Krita's GUI thread.

A request runs on a daemon thread with the blocking client; its progress and its
outcome come back through a queue that a 30 ms QTimer drains on the GUI thread,
where the callbacks run. Krita's event loop never waits on the network.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PyQt5.QtCore import QObject, QTimer

from .wire.client import EngineUnavailable, JobCancelledError, Result, SoftcutClient
from .wire.editor.flows import Ask
from .wire.protocol.messages import Message

POLL_MS = 30
_ids = itertools.count(1)


class EngineWorker(QObject):
    """Runs one engine request at a time; callbacks come back on the GUI thread.

    Parameters
    ----------
    host, port: where the engine listens.
    token: the pairing token (None: the engine's config folder).
    """

    def __init__(self, host: str, port: int, *, token: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host, self.port, self.token = host, port, token
        self._events: queue.Queue = queue.Queue()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._drain)
        self._client: SoftcutClient | None = None
        # the running request: (job id, on_done, on_error, on_progress)
        self._job: tuple[str, Callable, Callable, Callable | None] | None = None
        self._cancel_wanted: str | None = None  # a job to cancel once its connection is up
        self._request: str | None = None  # the id of the running job's latest request
        self._stop: threading.Event | None = None  # set to stop the running stream (see :meth:`stream`)

    @property
    def busy(self) -> bool:
        return self._job is not None

    def configure(self, host: str, port: int, token: str | None = None) -> None:
        """Talk to another engine from the next request on."""
        self.host, self.port, self.token = host, port, token
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def submit(
        self,
        flow: Callable[[Ask], Any] | None,
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_progress: Callable[[float, str], None] | None = None,
        *,
        timeout: float = 600.0,
    ) -> str:
        """Run ``flow(ask)`` on a thread (None: just connect and return the welcome): ``ask(message)``
        sends one request and waits for its result, as :mod:`.wire.editor`'s flows take it."""
        return self._begin(lambda job_id: self._run(job_id, flow, timeout), on_done, on_error, on_progress)

    def stream(
        self,
        run: Callable[[SoftcutClient, threading.Event, Callable[[float, str], None]], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_progress: Callable[[float, str], None] | None = None,
        *,
        stop: threading.Event | None = None,
    ) -> str:
        """Run ``run(client, stop, progress)`` on a thread: a long exchange such as a video stream,
        which ends early (JobCancelledError) once ``stop`` is set (by :meth:`cancel`); its outcome
        goes to ``on_done``, and ``progress(fraction, stage)`` calls to ``on_progress``, on the GUI thread.
        ``stop``: the Event to set (None: a new one), e.g. one a :class:`FrameFeed` of the stream also checks."""
        stop = stop if stop is not None else threading.Event()
        return self._begin(lambda job_id: self._run_stream(job_id, run, stop), on_done, on_error, on_progress,
                           stop=stop)

    def _begin(self, work: Callable[[str], None], on_done, on_error, on_progress, *,
               stop: threading.Event | None = None) -> str:
        """Start a request: ``work(job_id)`` on a thread, its outcome to the callbacks; ``stop``: the stream's."""
        if self.busy:
            raise RuntimeError("a request is already running")
        job_id = f"krita-{next(_ids)}"
        self._job = (job_id, on_done, on_error, on_progress)
        self._stop, self._request = stop, None
        threading.Thread(target=work, args=(job_id,), daemon=True).start()
        self._timer.start()
        return job_id

    def cancel(self) -> None:
        """Ask the engine to stop the running request (the reply comes as JobCancelledError).

        A request not yet at the engine gets the cancel with its first progress report. A stream
        (:meth:`stream`) stops at its next frame.
        """
        job, client, request = self._job, self._client, self._request
        if job is None:
            return
        if self._stop is not None:
            self._stop.set()
            return
        self._cancel_wanted = job[0]
        if client is not None and request is not None:
            threading.Thread(target=self._cancel, args=(client, request), daemon=True).start()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    # ── worker thread ─────────────────────────────────────────────────────────

    def _connected(self) -> SoftcutClient:
        if self._client is None:
            client = SoftcutClient(self.host, self.port, token=self.token, name="softcut-krita")
            client.connect()
            self._client = client
        return self._client

    def _outcome(self, job_id: str, work: Callable[[SoftcutClient], Any]) -> None:
        """``work(client)`` on the connected client; its outcome or failure queued for the GUI thread."""
        try:
            self._events.put((job_id, "done", work(self._connected())))
        except Exception as exc:  # every failure reaches the GUI as a message
            if isinstance(exc, EngineUnavailable):
                self._client = None  # reconnect on the next request
            self._events.put((job_id, "error", exc))

    def _run(self, job_id: str, flow, timeout: float) -> None:
        def work(client: SoftcutClient):
            if flow is None:
                return client.welcome

            def ask(message: Message) -> Result:
                def progress(fraction: float, stage: str) -> None:
                    if self._cancel_wanted == job_id:  # once: the request then ends as cancelled
                        self._cancel_wanted = None
                        self._cancel(client, message.id)
                    self._events.put((job_id, "progress", (fraction, stage)))

                self._request = message.id
                return client.request(message, progress=progress, timeout=timeout)

            return flow(ask)

        self._outcome(job_id, work)

    def _run_stream(self, job_id: str, run, stop: threading.Event) -> None:
        self._outcome(job_id, lambda client: run(
            client, stop, lambda fraction, stage: self._events.put((job_id, "progress", (fraction, stage)))))

    @staticmethod
    def _cancel(client: SoftcutClient, job_id: str) -> None:
        try:
            client.cancel(job_id)
        except EngineUnavailable:
            pass  # the request itself reports the dropped connection

    # ── GUI thread ────────────────────────────────────────────────────────────

    def _drain(self) -> None:
        while True:
            try:
                job_id, kind, payload = self._events.get_nowait()
            except queue.Empty:
                break
            if self._job is None or self._job[0] != job_id:
                continue  # from a request that has already ended
            _, on_done, on_error, on_progress = self._job
            if kind == "progress":
                if on_progress is not None:
                    on_progress(*payload)
                continue
            self._job = None
            self._stop = None
            (on_done if kind == "done" else on_error)(payload)
        if not self.busy and self._events.empty():
            self._timer.stop()


class FrameFeed(QObject):
    """Frames made on the GUI thread (``make(k)`` for k = 0 … count - 1: Krita's pixels can only be
    read there), handed to a worker thread through a queue of at most ``ahead`` frames: a 30 ms
    QTimer tops the queue up, the worker iterates. Once ``stop`` is set (the stream's: pass the same
    Event to :meth:`EngineWorker.stream`) no more frames are made and iterating raises
    JobCancelledError; iterating re-raises on the worker thread any error ``make`` raised."""

    def __init__(self, count: int, make: Callable[[int], Any], *, stop: threading.Event, ahead: int = 2,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        if ahead < 1:
            raise ValueError(f"ahead: expected at least 1; got {ahead}")
        self.count, self.made = count, 0
        self._make = make
        self.stop = stop
        self._queue: queue.Queue = queue.Queue(maxsize=ahead)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._fill)

    def start(self) -> None:
        self._fill()
        self._timer.start()

    def close(self) -> None:
        """Stop making frames and let the feed go (the GUI side; call when the request has ended): the
        frames still queued and ``make`` (with what it reads from) are dropped, the feed deleted later."""
        self._timer.stop()
        self.stop.set()
        self._make = None
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self.deleteLater()

    def _fill(self) -> None:
        while self.made < self.count and not self._queue.full() and not self.stop.is_set():
            try:
                item = self._make(self.made)
            except Exception as exc:  # reported on the worker thread, which ends the stream
                item = exc
                self.made = self.count
            else:
                self.made += 1
            self._queue.put(item)
        if self.made >= self.count:
            self._timer.stop()

    def __iter__(self) -> Iterator[Any]:
        for _ in range(self.count):
            while True:
                if self.stop.is_set():
                    raise JobCancelledError("cancelled")
                try:
                    item = self._queue.get(timeout=0.05)
                    break
                except queue.Empty:
                    continue
            if isinstance(item, Exception):
                raise item
            yield item
