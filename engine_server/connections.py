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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from engine_server.protocol import codec, messages

_activity = itertools.count(1)


class EditorGone(ConnectionError):
    """The editor connection closed before it answered."""


@dataclass(eq=False)
class Client:
    """One connection's state.

    accepts: the engine requests it answers (from its hello).
    cutout_format: "png" or "rgba8", how it wants place_layer's cut-out.
    last_active: a counter value, larger = more recently connected or heard from.
    waiting: futures of the engine requests sent to it, by the request's id.
    """

    id: str
    connection: ServerConnection
    decoder: codec.Decoder
    ready: bool = False
    name: str = ""
    accepts: frozenset[str] = frozenset()
    cutout_format: str = "png"
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False
    last_active: int = field(default_factory=lambda: next(_activity))
    waiting: dict[str, asyncio.Future] = field(default_factory=dict)

    @property
    def is_editor(self) -> bool:
        return self.ready and not self.closed and "place_layer" in self.accepts

    def touch(self) -> None:
        """Record activity (any message received)."""
        self.last_active = next(_activity)

    async def send(self, message: messages.Message, *, still: Callable[[], bool] | None = None) -> None:
        """Send one message (its JSON frame, then its buffers) without interleaving.

        ``still``: checked once the message's turn has come; when false the message is
        dropped (progress that would otherwise follow its job's end)."""
        if self.closed:
            return
        frames = codec.encode(message)
        try:
            async with self.send_lock:
                if still is not None and not still():
                    return
                for frame in frames:
                    await self.connection.send(frame)
        except ConnectionClosed:
            self.closed = True

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
        """The connection closed: every :meth:`ask` still waiting raises :class:`EditorGone`."""
        self.closed = True
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(EditorGone(f"{self.name or self.id} left"))


def pick_editor(clients: Iterable[Client], target: str | None = None) -> Client | None:
    """The most recently active editor connection (named ``target`` when given), or None."""
    editors = [c for c in clients if c.is_editor and (target is None or c.name == target)]
    return max(editors, key=lambda c: c.last_active, default=None)
