"""Ray nodes on this machine for the Ray path's tests and benchmark: ``ray start`` with its own free
ports, one CPU, in a session of its own (so whatever the node leaves can be killed at once), and stopping it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from testing.ports import free_ports

STARTED = "Ray runtime started"
"""What ``ray start`` prints once its node is up (head or worker)."""


def ray_node(log: Path, *args) -> subprocess.Popen:
    """``ray start --block --num-cpus 1 ARGS…`` (``--head …`` or ``--address …``), its output in ``log``. The node
    is a throwaway: on SIGTERM it stops at once instead of draining (RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0; by
    default a head that has run a job waits out the 30 s drain)."""
    ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    chosen = free_ports(4, besides=tuple(a for a in args if isinstance(a, int)))  # e.g. the head's --port
    ports = [item for pair in zip(("--dashboard-agent-listen-port", "--dashboard-agent-grpc-port",
                                   "--runtime-env-agent-port", "--metrics-export-port"), chosen) for item in pair]
    with open(log, "w") as out:
        return subprocess.Popen([ray, "start", "--block", "--num-cpus", "1", "--disable-usage-stats",
                                 *map(str, ports), *map(str, args)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"})


def started(log: Path, node: subprocess.Popen) -> bool:
    """Whether ``node`` (:func:`ray_node`) has said it is up in ``log``; :class:`RuntimeError` if it exited."""
    if node.poll() is not None:
        raise RuntimeError(f"ray start exited ({node.returncode}): {log.read_text()[-1500:]}")
    return STARTED in log.read_text()


def wait_started(log: Path, node: subprocess.Popen, *, limit: float = 120) -> None:
    """Wait until ``node`` says it is up (:func:`started`); :class:`TimeoutError` after ``limit`` s."""
    deadline = time.monotonic() + limit
    while not started(log, node):
        if time.monotonic() > deadline:
            raise TimeoutError(f"ray start did not say {STARTED!r} within {limit:g} s: {log}")
        time.sleep(0.05)


def stop_node(node: subprocess.Popen, *, timeout: float = 60) -> None:
    """Stop a node from :func:`ray_node`: SIGTERM to ``ray start --block`` alone, which stops its node's processes
    (a SIGTERM to the whole group would stop the GCS first, and a head would wait for it), then SIGKILL to whatever
    of its session is left."""
    if node.poll() is None:
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(node.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    node.wait()
