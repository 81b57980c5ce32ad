"""Ray nodes on this machine for the Ray path's tests and benchmark: ``ray start`` with its own free
ports, one CPU, in a session of its own (so the whole node can be killed at once)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_node(log: Path, *args) -> subprocess.Popen:
    """``ray start --block --num-cpus 1 ARGS…`` (``--head …`` or ``--address …``), its output in ``log``."""
    ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    ports = ("--dashboard-agent-listen-port", free_port(), "--dashboard-agent-grpc-port", free_port(),
             "--runtime-env-agent-port", free_port(), "--metrics-export-port", free_port())
    with open(log, "w") as out:
        return subprocess.Popen([ray, "start", "--block", "--num-cpus", "1", "--disable-usage-stats",
                                 *map(str, ports), *map(str, args)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
