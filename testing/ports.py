"""Free loopback TCP ports for tests and benchmarks: engines, editors' dead-engine checks, Ray nodes."""

from __future__ import annotations

import socket


def free_ports(count: int, *, besides: tuple = ()) -> list[int]:
    """``count`` distinct loopback TCP ports nothing listens on now, none of them in ``besides``. All are held
    open until all are chosen: ports asked for one at a time can come back twice (the OS may hand out a port
    just closed again), and ``ray start`` refuses two components on one port."""
    held: list[socket.socket] = []  # the ones in ``besides`` too, so that they are not handed out again
    ports: list[int] = []
    try:
        while len(ports) < count:
            s = socket.socket()
            held.append(s)
            s.bind(("127.0.0.1", 0))
            if s.getsockname()[1] not in besides:
                ports.append(s.getsockname()[1])
        return ports
    finally:
        for s in held:
            s.close()


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    return free_ports(1)[0]
