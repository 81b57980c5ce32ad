"""What the ``softcut`` command tells the user: messages on stderr, results on stdout (text or JSON),
and progress bars for work over a second. The only place the application prints."""

from __future__ import annotations

import argparse
import json
import sys
import time


class ProgressBar:
    """Progress on stderr for work over a second: a bar on a terminal, a line per
    stage otherwise (logs, pipes)."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.shown = False
        self.stage = ""

    def __call__(self, fraction: float, stage: str) -> None:
        if not self.enabled or time.monotonic() - self.start < 1.0:
            return
        if not self.tty:
            if stage != self.stage:
                self.stage = stage
                sys.stderr.write(f"{self.label}: {stage}\n")
            return
        self.shown = True
        filled = int(round(max(0.0, min(1.0, fraction)) * 24))
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (24 - filled)}] {fraction * 100:3.0f}% {stage:<24}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


class FrameProgress(ProgressBar):
    """Progress over the frames of a video: count, frames per second and time left (a bar
    on a terminal; elsewhere a line every 10 s)."""

    def __init__(self, label: str, *, enabled: bool, unit: str = "frames") -> None:
        super().__init__(label, enabled=enabled)
        self.unit = unit
        self.first: int | None = None
        self.logged = self.start

    def frames(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first, self.start = done, now
            return
        rate = (done - self.first) / max(now - self.start, 1e-6)
        left = f" ETA {_clock((total - done) / rate)}" if total and rate > 0 and total > done else ""
        stage = f"{done}/{total or '?'} {rate:.1f} {self.unit}/s{left}"
        if self.tty:
            self(done / total if total else 0.0, stage)
        elif self.enabled and now - self.logged >= 10.0:
            self.logged = now
            sys.stderr.write(f"{self.label}: {stage}\n")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


class Console:
    """What the CLI tells the user: messages to stderr, results to stdout (text or JSON)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.quiet = getattr(args, "quiet", False)
        self.json = getattr(args, "json", False)
        self.results = sys.stdout

    def take_stdout(self) -> None:
        """Standard output carries an image (``-o -``): results go to stderr from now on."""
        self.results = sys.stderr

    def info(self, text: str) -> None:
        if not self.quiet and not self.json:
            print(text, file=sys.stderr)

    def warn(self, text: str) -> None:
        print(f"warning: {text}", file=sys.stderr)

    def error(self, text: str) -> None:
        print(f"error: {text}", file=sys.stderr)

    def progress(self, label: str) -> ProgressBar:
        return ProgressBar(label, enabled=not self.quiet and not self.json)

    def frame_progress(self, label: str, *, unit: str = "frames") -> FrameProgress:
        return FrameProgress(label, enabled=not self.quiet and not self.json, unit=unit)

    def result(self, payload: dict, text: str) -> None:
        if self.json:
            print(json.dumps(payload), file=self.results)
        elif not self.quiet:
            print(text, file=self.results)
