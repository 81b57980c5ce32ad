"""Long work that Ctrl-C stops at once.

Python runs a signal's handler in the main thread, between two of its bytecodes: while that
thread is inside a long native call (a model run in onnxruntime, a big OpenCV or numba
operation) Ctrl-C waits for the call to end, seconds on a large frame. :func:`run_interruptibly`
runs the work in a worker thread instead and keeps the main thread waiting in short, interruptible
waits, so Ctrl-C is taken at once; it then asks the work to stop and does not wait for more than a
moment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.1
"""How often the main thread wakes while it waits (Ctrl-C interrupts the wait itself on POSIX)."""


def run_interruptibly(work: Callable[[], T], *, on_interrupt: Callable[[], None], grace: float = 0.5) -> T:
    """``work()`` run in a daemon thread; its result, or its exception raised here.

    On Ctrl-C (KeyboardInterrupt in this thread), ``on_interrupt()`` is called to make the work stop
    (it must return quickly), the worker is given up to ``grace`` seconds to end, and
    KeyboardInterrupt is raised again. A worker still running then is a daemon: it does not keep
    the process alive."""
    outcome: dict = {}
    ended = threading.Event()  # set by the worker itself: Thread.join and is_alive can be wrong after Ctrl-C (3.11)

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc
        finally:
            ended.set()

    worker = threading.Thread(target=target, name="softcut-work", daemon=True)
    worker.start()
    try:
        while not ended.wait(POLL_SECONDS):
            pass
    except KeyboardInterrupt:
        on_interrupt()
        ended.wait(grace)  # a native call it is in (a model run) must not outlive the process's exit
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
