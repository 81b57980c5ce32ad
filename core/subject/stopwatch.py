"""Stage timings, and the progress callback they are reported to."""

from __future__ import annotations

import time
from collections.abc import Callable

Progress = Callable[[float, str], None]
"""``progress(fraction in [0, 1], stage)``."""


class Stopwatch:
    """Stage timings, reported to a progress callback as each stage ends."""

    def __init__(self, progress: Progress | None, timings: dict[str, float] | None = None) -> None:
        self.report = progress or (lambda fraction, stage: None)
        self.timings = {} if timings is None else timings
        self.clock = time.perf_counter()

    def lap(self, name: str, fraction: float) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.clock
        self.clock = now
        self.report(fraction, name)
