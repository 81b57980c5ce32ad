"""How many connections the engine holds, and for how long one may stay without saying hello.

Every TCP connection counts from the moment it is accepted. Until its ``hello`` has
been accepted it is *pending*: it may use little (the frame limit before hello is the
size of a hello, see :data:`PRE_HELLO_FRAME_BYTES`), it must finish the handshake
within ``hello_timeout_s``, and at most ``max_pending`` are held: one more pushes out a
pending connection of the address that holds the most (an IPv4 address, an IPv6 /64, or
this machine: :func:`~engine_server.security.peer_key`), the one that got least far (a bare
TCP connection before one that has upgraded to WebSocket, before one that has sent
``hello`` or ``pair``), oldest first. So a flood from one address pushes out its own
connections, idle or slow connections cannot lock out a client that says hello at once, and
they cost the engine a bounded number of sockets. Authenticated connections are capped at
``max_clients``; beyond it an upgrade is refused with 503 before any work.
Each of these refusals is logged once a minute, not once a connection
(:class:`ThrottledLog`).
"""

from __future__ import annotations

import asyncio
import collections
import enum
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine_server.security import peer_key

log = logging.getLogger(__name__)

PRE_HELLO_FRAME_BYTES = 16 * 1024
"""The largest frame before ``hello`` has been accepted: room for a hello, a pair or an auth message."""


class Stage(enum.IntEnum):
    """How far a pending connection has got (a lower stage is pushed out first)."""

    TCP = 0
    """Accepted; no WebSocket upgrade yet (or a plain HTTP GET for the phone page)."""
    OPEN = 1
    """Upgraded to WebSocket; no handshake message yet."""
    HANDSHAKE = 2
    """Has sent ``hello`` or ``pair`` and is being answered."""


@dataclass(frozen=True)
class ConnectionLimits:
    """What the gate allows.

    max_pending: connections held before their hello is accepted.
    max_clients: authenticated connections.
    hello_timeout_s: seconds from accept to an accepted hello.
    """

    max_pending: int = 64
    max_clients: int = 128
    hello_timeout_s: float = 10.0


class ThrottledLog:
    """Log a repeated event once per ``every_s`` seconds, with how many happened meanwhile."""

    def __init__(self, logger: logging.Logger, every_s: float = 60.0, *, level: int = logging.WARNING,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log, self.every_s, self.level, self._clock = logger, every_s, level, clock
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def __call__(self, key: str, text: str) -> bool:
        """Count one ``key`` event; log ``text`` (+ the count since the last line) when due. True when logged."""
        now = self._clock()
        self._count[key] = self._count.get(key, 0) + 1
        if now - self._last.get(key, -1e18) < self.every_s:
            return False
        count, self._count[key], self._last[key] = self._count[key], 0, now
        more = f" ({count - 1} more like it since the last such line)" if count > 1 else ""
        self._log.log(self.level, "%s%s (logged at most once every %g s)", text, more, self.every_s)
        return True


def _peer_of(connection: object) -> str:
    """The :func:`~engine_server.security.peer_key` of a connection's remote address."""
    try:
        address = connection.transport.get_extra_info("peername")  # type: ignore[attr-defined]
    except AttributeError:
        address = None
    return peer_key(address[0] if isinstance(address, tuple) and address else None)


class ConnectionGate:
    """The engine's count of connections (see the module's text). Event-loop thread only.

    ``abort(connection)``: drops a connection at once (its transport's ``abort``).
    """

    def __init__(self, limits: ConnectionLimits = ConnectionLimits(),
                 abort: Callable[[object], None] = lambda connection: connection.transport.abort()) -> None:
        self.limits = limits
        self._abort = abort
        self._seq = itertools.count()
        self._pending: dict[object, tuple[Stage, int, asyncio.TimerHandle | None, str]] = {}
        """connection → (stage, arrival, hello deadline, peer key)."""
        self._clients: set[object] = set()
        self.refused = ThrottledLog(log)

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def full(self) -> bool:
        """Whether no further client can be admitted."""
        return len(self._clients) >= self.limits.max_clients

    def opened(self, connection: object) -> None:
        """A TCP connection was accepted: it is pending, with a deadline; one over the cap is pushed out."""
        peer = _peer_of(connection)
        if len(self._pending) >= self.limits.max_pending:
            held = collections.Counter(entry[3] for entry in self._pending.values())
            held[peer] += 1  # the newcomer counts for its address
            crowded = max(held, key=held.__getitem__)
            candidates = [c for c, entry in self._pending.items() if entry[3] == crowded]
            if not candidates:  # the newcomer's own address holds the most: it is the one left out
                self.refused("pending", f"more than {self.limits.max_pending} connections have not said hello: "
                                        f"refusing one more from {peer}")
                self._abort(connection)
                return
            victim = min(candidates, key=lambda c: self._pending[c][:2])
            self.refused("pending", f"more than {self.limits.max_pending} connections have not said hello: "
                                    f"dropping the one from {crowded} that got least far")
            self._drop(victim)
        timer = asyncio.get_running_loop().call_later(self.limits.hello_timeout_s, self._expire, connection)
        self._pending[connection] = (Stage.TCP, next(self._seq), timer, peer)

    def advanced(self, connection: object, stage: Stage) -> None:
        """A pending connection got to ``stage`` (it keeps its place among those of that stage by age)."""
        entry = self._pending.get(connection)
        if entry is not None and stage > entry[0]:
            self._pending[connection] = (stage, *entry[1:])

    def admitted(self, connection: object) -> None:
        """Its hello was accepted: no longer pending."""
        self._forget_pending(connection)
        self._clients.add(connection)

    def closed(self, connection: object) -> None:
        """The connection is gone."""
        self._forget_pending(connection)
        self._clients.discard(connection)

    def _forget_pending(self, connection: object) -> None:
        entry = self._pending.pop(connection, None)
        if entry is not None and entry[2] is not None:
            entry[2].cancel()

    def _expire(self, connection: object) -> None:
        if connection in self._pending:
            self.refused("hello_timeout", f"a connection said no accepted hello within "
                                          f"{self.limits.hello_timeout_s:g} s: dropped")
            self._drop(connection)

    def _drop(self, connection: object) -> None:
        self._forget_pending(connection)
        try:
            self._abort(connection)
        except Exception:  # already gone
            pass
