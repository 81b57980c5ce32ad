"""One ``softcut video`` run at a time per output.

Each output gets a lock file beside it (``.NAME.softcut-lock`` in its folder) that the running
process holds an operating-system lock on (``flock`` on POSIX, ``msvcrt.locking`` on Windows) and
writes its pid into. A second run on any of the same outputs is refused with
:class:`OutputsBusyError`. The system drops the lock when its process ends, however it ends, so the
file a killed run leaves behind blocks nobody: the next run takes it over.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import SoftcutError
from core.video.encode import Output

LOCK_SUFFIX = ".softcut-lock"


class OutputsBusyError(SoftcutError):
    """Another running ``softcut video`` writes to one of the outputs."""

    code = "outputs_busy"


def lock_path(output: Path) -> Path:
    """The lock file of ``output``: ``.NAME.softcut-lock`` beside it."""
    return output.with_name(f".{output.name}{LOCK_SUFFIX}")


class OutputLock:
    """The locks of a run's outputs, held from :meth:`acquire` (or ``with``) to :meth:`release`.

    ``acquire`` raises OutputsBusyError, naming the output and the pid of the run holding it,
    when another process holds any of them (the locks it took are given back first)."""

    def __init__(self, outputs: list[Output]) -> None:
        self.paths = [lock_path(out.path) for out in outputs]
        self._held: list[tuple[Path, int]] = []

    def acquire(self) -> OutputLock:
        try:
            for path in self.paths:
                self._held.append((path, _take(path)))
        except BaseException:
            self.release()
            raise
        return self

    def release(self) -> None:
        """Give back the locks and remove their files."""
        while self._held:
            path, fd = self._held.pop()
            _give_back(path, fd)

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _take(path: Path) -> int:
    """Lock ``path`` (created if missing) for this process; returns its open descriptor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = _read_pid(fd)
            os.close(fd)
            output = path.with_name(path.name[1:-len(LOCK_SUFFIX)])
            who = f" (pid {holder})" if holder else ""
            raise OutputsBusyError(
                f"{output}: another softcut video run{who} is writing it; wait for that run to end or stop it, "
                "then run this again (an interrupted run resumes), or choose another output")
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:  # not a file its last holder removed after we opened it
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _give_back(path: Path, fd: int) -> None:
    if os.name == "nt":  # Windows removes no open file: unlock and close first
        _unlock(fd)
        os.close(fd)
        try:
            path.unlink()
        except OSError:
            pass  # another run opened it meanwhile; it takes it over
        return
    path.unlink(missing_ok=True)
    os.close(fd)  # closing drops the lock


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return int(os.read(fd, 32).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


if os.name == "nt":  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
