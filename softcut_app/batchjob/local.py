"""The local pool: worker processes on this machine, each holding one model session (:class:`~.job.Cutter`),
fed through a pipe of their own at most :data:`AHEAD` inputs ahead, so memory stays bounded whatever the
folder's size (the inputs are listed lazily; a worker reads, decodes and writes its own images).

With several workers one worker's decoding, refinement and encoding (one core each) overlap another's
model run, which is where a batch beats ``cut``'s one image after another. A worker that dies (killed, out
of memory) is replaced and its inputs handed out again, once; an input that kills two workers is
recorded as failed."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from core.errors import ModelError, SoftcutError
from softcut_app.batchjob.job import Cutter, Job

WORKER_NAME = "softcut-worker"
"""A worker's process name (ps, top) once its model is open."""
AHEAD = 2
"""Inputs sent to a worker before it has answered: one being cut, one waiting."""
MODEL_RUN_BYTES_PER_FILE_BYTE = 15.0
"""A worker's model memory (weights, onnxruntime's arena and one inference) per byte of the .onnx file:
IS-Net's 88 MB file runs in about 1.3 GB on the CPU (README, ``softcut serve --memory``)."""
PYTHON_BYTES = 200 * 1024**2
"""A worker process's own memory: Python, NumPy, OpenCV, onnxruntime's libraries."""
MEMORY_SHARE = 0.8
"""The share of the memory available now that the workers may take."""


@dataclass(frozen=True)
class Plan:
    workers: int
    threads: int
    worker_bytes: int
    available: int | None


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo (bytes), else half the physical memory, else None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    from engine_server.memory import physical_memory

    total = physical_memory()
    return total // 2 if total else None


def plan(model_path: Path, pixels: int, refine: str, *, workers: int = 0) -> Plan:
    """How many workers and onnxruntime threads each: as many workers as cores, fewer when their memory
    (the model's, :func:`engine_server.memory.job_estimate` for an image of ``pixels``, Python's) would not
    fit :data:`MEMORY_SHARE` of the memory available; ``workers`` > 0 overrides. Threads: the cores shared out."""
    from engine_server.memory import job_estimate

    job = job_estimate("select_subject", {"refine": refine, "outputs": ["alpha", "cutout"]}, [("png", 1, max(pixels, 1), 0)])
    per = int(MODEL_RUN_BYTES_PER_FILE_BYTE * model_path.stat().st_size) + PYTHON_BYTES + job
    available = available_memory()
    n = cores()
    if available is not None:
        n = min(n, max(1, int(available * MEMORY_SHARE // per)))
    n = workers or n
    return Plan(workers=n, threads=max(1, cores() // n), worker_bytes=per, available=available)


def _worker(job: Job, threads: int, conn) -> None:
    """A worker process: open the session, then cut out each (id, source, relative, previous) it is sent,
    answering (id, record), until it is sent None or its parent goes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        cutter = Cutter(job, threads=threads)
    except SoftcutError as exc:
        conn.send(("setup", str(exc)))
        return
    _name_process(WORKER_NAME)
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        tid, source, relative, previous = task
        conn.send(("begin", tid))
        conn.send(("record", (tid, cutter.run(source, relative, previous))))


def _name_process(name: str) -> None:
    """Name this process ``name`` in ps and top (Linux; elsewhere nothing)."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name)
    except OSError:
        pass


class _Worker:
    def __init__(self, ctx, job: Job, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(job, threads, child), daemon=True)
        self.process.start()
        child.close()
        self.outstanding: dict[int, tuple] = {}
        self.ready = False
        self.current: int | None = None  # the input it said it began


def run_local(job: Job, sources: Iterator[tuple[str, str, dict | None]], plan_: Plan,
              on_record: Callable[[dict], None]) -> None:
    """Cut out every ``(source, relative, previous done record or None)`` of ``sources`` in ``plan_.workers``
    processes; ``on_record(record)`` is called in this process for each, in the order they finish.
    Raises :class:`ModelError` when no worker can open the model (said by the first)."""
    ctx = mp.get_context("spawn")  # no fork of a process that may hold onnxruntime or threads
    workers = [_Worker(ctx, job, plan_.threads) for _ in range(plan_.workers)]
    retry: deque[tuple] = deque()
    deaths: dict[int, int] = {}
    source_iter = enumerate(sources)
    exhausted = False
    try:
        while True:
            for w in workers:  # hand out work
                while w.ready and len(w.outstanding) < AHEAD:
                    task = retry.popleft() if retry else None
                    if task is None and not exhausted:
                        try:
                            tid, (source, relative, previous) = next(source_iter)
                            task = (tid, source, relative, previous)
                        except StopIteration:
                            exhausted = True
                    if task is None:
                        break
                    w.outstanding[task[0]] = task
                    try:
                        w.conn.send(task)
                    except OSError:  # it died: found below, and its inputs handed out again
                        break
            if exhausted and not retry and not any(w.outstanding for w in workers):
                break
            ready = wait([w.conn for w in workers] + [w.process.sentinel for w in workers], timeout=5.0)
            for w in list(workers):
                if w.conn not in ready and w.process.sentinel not in ready:
                    continue
                ended = False
                try:
                    while w.conn.poll():
                        kind, value = w.conn.recv()
                        if kind == "setup":
                            raise ModelError(value)
                        if kind == "ready":
                            w.ready = True
                        elif kind == "begin":
                            w.current = value
                        else:
                            tid, record = value
                            w.outstanding.pop(tid, None)
                            on_record(record)
                except (EOFError, OSError):
                    ended = True  # the worker's end of the pipe is closed: it is gone
                if ended or not w.process.is_alive():
                    w.process.join(timeout=5)
                    if not w.ready:
                        raise ModelError(f"a worker process died while opening the model {job.model} "
                                         f"(exit status {w.process.exitcode})")
                    workers.remove(w)
                    _requeue(w, retry, deaths, on_record)
                    workers.append(_Worker(ctx, job, plan_.threads))
    finally:
        for w in workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        for w in workers:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()


def _requeue(w: _Worker, retry: deque, deaths: dict[int, int], on_record: Callable[[dict], None]) -> None:
    """A worker died: its inputs are handed out again, unless the one it was cutting had killed a worker
    before (an input it had not begun is not to blame)."""
    code = w.process.exitcode
    how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
    for tid, task in sorted(w.outstanding.items()):
        deaths[tid] = deaths.get(tid, 0) + (tid == w.current)
        if deaths[tid] >= 2:
            on_record({"input": task[2], "source": task[1], "status": "failed",
                       "error": f"{task[1]}: a worker process died twice while cutting it out ({how})"})
        else:
            retry.append(task)

