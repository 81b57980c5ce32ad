"""One WebSocket connection's state, and the engine's requests to editor connections.

A connection whose ``hello`` accepts ``place_layer`` is an *editor connection*. The
engine can send it requests of its own (``canvas_snapshot``, ``place_layer``) and
await the answer (``snapshot``, ``placed`` or ``error`` with ``ref`` = the request's
id) with :meth:`Client.ask`. Editors are ranked by when they were last active
(connected or sent any message): :func:`pick_editor` takes the most recent.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from wire.protocol import codec, messages
from engine_server.scopes import EDITOR_SCOPES

log = logging.getLogger(__name__)
_activity = itertools.count(1)


class EditorGone(ConnectionError):
    """The editor connection closed before it answered."""


SEND_BUFFER_BYTES = 256 * 1024**2
"""Bytes of answers a connection may have waiting to be written before its client gets no new
jobs started and no further request read (:attr:`Client.congested`, :meth:`Client.room`); a
single larger answer is still queued."""
WRITE_TIMEOUT_S = 30.0
"""A connection whose peer takes none of our bytes for this long is dropped as not reading."""
_WRITE_POLL_S = 0.25


class SlowReader(ConnectionError):
    """The peer stopped reading: nothing of a pending write went out for the write timeout."""


@dataclass(eq=False)
class Client:
    """One connection's state, and its writer.

    accepts: the engine requests it answers (from its hello).
    cutout_format: "png" or "rgba8", how it wants place_layer's cut-out.
    scope: "master", "editor" or "phone" once authenticated (:mod:`engine_server.scopes`); None before.
    key: the key id its hello named ("master" or a scoped token's id).
    challenge: the handshake in progress between ``challenge`` and ``auth`` (the server's own record).
    last_active: a counter value, larger = more recently connected or heard from.
    waiting: futures of the engine requests sent to it, by the request's id.
    write_timeout_s: seconds without write progress after which the connection is dropped.
    send_buffer_bytes: see :data:`SEND_BUFFER_BYTES`.
    on_drained: called when the pending answers fall back under ``send_buffer_bytes``
        (the job queue then starts this client's jobs again).

    Answers are written by the connection's own writer task (:meth:`start_writer`), never
    by the job runners: :meth:`send` only queues, so a client that stops reading delays
    nobody but itself, and is dropped once its writes make no progress for
    ``write_timeout_s``.
    """

    id: str
    connection: ServerConnection
    decoder: codec.Decoder
    ready: bool = False
    name: str = ""
    accepts: frozenset[str] = frozenset()
    cutout_format: str = "png"
    scope: str | None = None
    key: str | None = None
    challenge: Any = None
    closed: bool = False
    last_active: int = field(default_factory=lambda: next(_activity))
    waiting: dict[str, asyncio.Future] = field(default_factory=dict)
    write_timeout_s: float = WRITE_TIMEOUT_S
    send_buffer_bytes: int = SEND_BUFFER_BYTES
    on_drained: Callable[[], None] = lambda: None
    pending_bytes: int = 0
    _pending: deque = field(default_factory=deque)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _writer: asyncio.Task | None = None
    _room: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def is_editor(self) -> bool:
        return self.ready and not self.closed and self.scope in EDITOR_SCOPES and "place_layer" in self.accepts

    @property
    def congested(self) -> bool:
        """Whether answers past :attr:`send_buffer_bytes` wait to be written (start no more of its jobs)."""
        return self.pending_bytes > self.send_buffer_bytes

    def touch(self) -> None:
        """Record activity (any message received)."""
        self.last_active = next(_activity)

    def start_writer(self) -> None:
        """Start the task that writes queued messages (call once, on the event loop)."""
        self._idle.set()
        self._room.set()
        self._writer = asyncio.ensure_future(self._write_loop())

    async def send(self, message: messages.Message, *, still: Callable[[], bool] | None = None) -> None:
        """Queue one message (its JSON frame, then its buffers) for the writer; returns at once.

        ``still``: checked once the message's turn has come; when false the message is
        dropped (progress that would otherwise follow its job's end)."""
        if self.closed:
            return
        frames = codec.encode(message)
        size = sum(len(frame) for frame in frames)
        self._pending.append((frames, still, size))
        self.pending_bytes += size
        if self.congested:
            self._room.clear()
        self._idle.clear()
        self._wake.set()

    async def room(self) -> None:
        """Wait until the answers waiting to be written are back within :attr:`send_buffer_bytes` (or the
        connection is closed). The server reads no further request from a client meanwhile, so what a
        client can make the engine hold for it is bounded even if it keeps sending and reads slowly."""
        await self._room.wait()

    async def flush(self, timeout: float) -> None:
        """Wait until everything queued has been written (or the connection closed), at most ``timeout`` s."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            pass

    async def close(self, code: int, reason: str, *, flush_s: float = 2.0) -> None:
        """Close the connection once what is queued has gone out (at most ``flush_s`` seconds)."""
        await self.flush(flush_s)
        await self.connection.close(code, reason)

    async def _write_loop(self) -> None:
        try:
            while not self.closed:
                if not self._pending:
                    self._idle.set()
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                frames, still, size = self._pending[0]
                if still is None or still():
                    for frame in frames:
                        await self._write(frame)
                self._pending.popleft()
                was_congested = self.congested
                self.pending_bytes -= size
                if was_congested and not self.congested:
                    self._room.set()
                    self.on_drained()
        except ConnectionClosed:
            self.closed = True
        except SlowReader as exc:
            self.closed = True
            log.warning("client %s (%s): %s; disconnected", self.id, self.name or "unnamed", exc)
            self.connection.transport.abort()  # its read loop ends, and its jobs are cancelled
        finally:
            self._pending.clear()
            self.pending_bytes = 0
            self._idle.set()
            self._room.set()

    async def _write(self, frame: str | bytes) -> None:
        """Write one frame; raises :class:`SlowReader` when none of it leaves for ``write_timeout_s``."""
        sending = asyncio.ensure_future(self.connection.send(frame))
        transport = self.connection.transport
        loop = asyncio.get_running_loop()
        last: int | None = None  # the transport's buffer at the last look (the frame is in it from the first)
        progressed = loop.time()
        while True:
            done, _ = await asyncio.wait({sending}, timeout=_WRITE_POLL_S)
            if done:
                sending.result()
                return
            now, buffered = loop.time(), transport.get_write_buffer_size()
            if last is None or buffered < last:  # any bytes taken since the last look are progress
                progressed = now
            last = buffered
            if now - progressed > self.write_timeout_s:
                sending.cancel()
                raise SlowReader(f"it read nothing for {self.write_timeout_s:g} s with {self.pending_bytes} bytes to send")

    async def ask(self, request: messages.Message, timeout: float) -> messages.Message:
        """Send an engine request and wait for the answer whose ``ref`` is its id.

        Returns the answer (``snapshot``, ``placed`` or ``error``). Raises
        :class:`EditorGone` when the connection closes first and TimeoutError after
        ``timeout`` seconds (a later answer is then dropped by :meth:`answered`).
        """
        future = asyncio.get_running_loop().create_future()
        self.waiting[request.id] = future
        try:
            await self.send(request)
            if self.closed:
                raise EditorGone(f"{self.name or self.id} left")
            return await asyncio.wait_for(future, timeout)
        finally:
            self.waiting.pop(request.id, None)

    def answered(self, answer: messages.Message) -> bool:
        """Hand an editor's answer to the :meth:`ask` waiting for it; False when none waits (late or unknown)."""
        future = self.waiting.get(answer.ref or "")
        if future is None or future.done():
            return False
        future.set_result(answer)
        return True

    def gone(self) -> None:
        """The connection closed: every :meth:`ask` still waiting raises :class:`EditorGone`; the writer stops."""
        self.closed = True
        self._wake.set()
        self._room.set()
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(EditorGone(f"{self.name or self.id} left"))


def pick_editor(clients: Iterable[Client], target: str | None = None) -> Client | None:
    """The most recently active editor connection (named ``target`` when given), or None."""
    editors = [c for c in clients if c.is_editor and (target is None or c.name == target)]
    return max(editors, key=lambda c: c.last_active, default=None)
