"""The batch manifest: one JSON object per line in ``DST/.softcut-batch.jsonl`` (mode 0600), the
latest line for an input saying what became of it, and a lock beside it (one run per output folder).

A line is appended once an input's outputs have been renamed into place, so a run killed at any
moment leaves at most a partial last line (dropped when the manifest is next opened) and inputs
with no line, which the next run does. A run that gets to its end rewrites the manifest with one
line per input (written beside it and renamed into place).

A DST given as a URL keeps its manifest with its outputs too: a ``file://`` URL's folder as above; on any
other store (s3, gcs…, which cannot append) a local copy is worked on and published to DST
(:class:`PublishedManifest`).

Lines: ``{"input": RELATIVE, "source": …, "sha256": …, "options": KEY, "status": "done",
"outputs": [...], "width": W, "height": H, "seconds": S}`` or ``{"input": …, "status": "failed",
"error": …}``; a run starts with ``{"job": KEY, "options": {...}, "started": …}``."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from core.errors import ParameterError
from softcut_app.batchjob.storage import (
    is_local_fs,
    is_url,
    join_url,
    local_path,
    open_url,
    put_atomic,
)
from wire.config import write_private

PUBLISH_SECONDS = 10.0
"""How often a :class:`PublishedManifest` is copied to DST while a run goes on."""

NAME = ".softcut-batch.jsonl"
LOCK = ".softcut-batch.lock"


class Manifest:
    """The manifest of output folder ``folder``, locked for this run (:class:`ParameterError` when
    another run holds it); :meth:`close` (or ``with``) lets it go."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / NAME
        self._lock = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            raise ParameterError(f"{folder}: another softcut batch is writing into this folder "
                                 f"(its lock {self.folder / LOCK} is held); wait for it or stop it") from None
        self._seed()
        self.records = self._read()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(self._fd, 0o600)

    @property
    def location(self) -> str:
        """Where the manifest is, as messages say it."""
        return str(self.path)

    def _seed(self) -> None:
        """Called once the lock is held, before the records are read (see :class:`PublishedManifest`)."""

    def _read(self) -> dict[str, dict]:
        """The latest record per input; a partial last line (a run killed while writing it) is cut off. Sets
        :attr:`unfinished`: whether a run's header line is there, i.e. a run began and never got to
        :meth:`compact` (it was killed, or stopped), and may have left temporary files in the output folders."""
        records: dict[str, dict] = {}
        self.unfinished = False
        if not self.path.exists():
            return records
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            with open(self.path, "r+b") as f:
                f.truncate(end)
        for line in data[:end].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("input"), str):
                records[record["input"]] = record
            elif isinstance(record, dict) and "job" in record:
                self.unfinished = True
        return records

    def done(self, relative: str, key: str) -> dict | None:
        """``relative``'s done record for options ``key``, else None."""
        record = self.records.get(relative)
        if record and record.get("status") == "done" and record.get("options") == key:
            return record
        return None

    def append(self, record: dict) -> None:
        """Add one line (one write, so a kill leaves a whole line or a partial last one)."""
        os.write(self._fd, (json.dumps(record, sort_keys=True) + "\n").encode())
        if "input" in record:
            self.records[record["input"]] = record

    def start(self, key: str, options: dict) -> None:
        self.append({"job": key, "options": options, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    def compact(self) -> None:
        """Rewrite the manifest as one line per input (the latest), renamed into place."""
        tmp = self.path.with_name(f".{NAME}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            for relative in sorted(self.records):
                f.write(json.dumps(self.records[relative], sort_keys=True) + "\n")
        os.replace(tmp, self.path)
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND, 0o600)

    def close(self) -> None:
        os.close(self._fd)
        os.close(self._lock)

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_records(folder: Path) -> list[dict]:
    """Every whole line of ``folder``'s manifest, in order (for checks and tests)."""
    path = Path(folder) / NAME
    lines = path.read_bytes().split(b"\n")[:-1] if path.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


class PublishedManifest(Manifest):
    """The manifest of a DST URL on a store that cannot append or lock (s3, gcs…): the run works on a copy in
    a local state folder (``$SOFTCUT_HOME/batch/<hash of the URL>``, locked there: one run per DST on this
    machine) and publishes it to ``DST/.softcut-batch.jsonl`` (written beside it, moved into place) every
    :data:`PUBLISH_SECONDS`, when the run ends and when it is stopped. Opening it puts the published lines
    first and the local copy's after them (a killed run's, newer), so the latest line per input still wins
    and a run killed before it could publish loses nothing; a run that ends removes its local copy."""

    def __init__(self, url: str) -> None:
        import hashlib

        from core.models.store import softcut_home

        self.url = url
        self.fs, root = open_url(url)
        self.remote = f"{root}/{NAME}"
        self._published = 0.0
        self._complete = False
        super().__init__(softcut_home() / "batch" / hashlib.sha256(url.encode()).hexdigest()[:16])

    @property
    def location(self) -> str:
        return join_url(self.url, NAME)

    def _seed(self) -> None:
        """The published lines, then this machine's unpublished ones, into the local copy."""
        published = self.fs.cat_file(self.remote) if self.fs.isfile(self.remote) else b""
        local = self.path.read_bytes() if self.path.exists() else b""
        if not published:
            return
        write_private(self.path, published[:published.rfind(b"\n") + 1] + local)

    def publish(self) -> None:
        """Copy the local manifest to DST (atomically)."""
        put_atomic(self.fs, self.remote, self.path.read_bytes())
        self._published = time.monotonic()

    def append(self, record: dict) -> None:
        super().append(record)
        if time.monotonic() - self._published >= PUBLISH_SECONDS:
            self.publish()

    def compact(self) -> None:
        super().compact()
        self.publish()
        self._complete = True

    def close(self) -> None:
        try:
            if not self._complete:
                self.publish()
        finally:
            if self._complete:
                self.path.unlink(missing_ok=True)
            super().close()


def open_manifest(dst: str) -> Manifest:
    """The manifest of output folder ``dst``: a local folder's (or a ``file://`` URL's) in the folder itself,
    else a :class:`PublishedManifest`."""
    if is_url(dst):
        fs, _ = open_url(dst)
        if not is_local_fs(fs):
            return PublishedManifest(dst)
    return Manifest(local_path(dst))
