"""Getting phone cut-outs from the outbox into editors: send, await ``placed``, forget.

:class:`Deliveries` owns the :class:`~engine_server.phone.outbox.Outbox`, the full-resolution
cut-outs still being finished after ``phone_cut`` answered, and which deliveries are
on their way to an editor (a delivery goes to one editor at a time). A ``placed`` ok
removes the delivery from the outbox, whichever request it answers (a late answer
counts), so it is never sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from core.errors import SoftcutError
from core.imageio import encode_png
from core.phone.placement import fit_scale, resize_rgba, scaled_size
from engine_server.connections import Client, EditorGone, pick_editor
from engine_server.errors import NotFound
from engine_server.phone.outbox import CUTTING, PENDING, Delivery, Outbox
from wire.protocol import messages
from wire.protocol.schemas import DEFAULT_SNAPSHOT_MAX_SIDE

log = logging.getLogger(__name__)

PLACE_TIMEOUT_S = 60.0
"""How long an editor may take to insert a layer (a 12 MP cut-out into a big document)."""
SNAPSHOT_TIMEOUT_S = 3.0
"""How long an editor may take to answer canvas_snapshot."""
SIZE_ONLY_SIDE = 16
"""The snapshot's longest side when only the document's size is wanted."""


@dataclass(frozen=True)
class Outcome:
    """An editor's answer to place_layer: ok, its message, the editor's client name."""

    ok: bool
    message: str
    editor: str


def cutout_buffer(png: bytes, native: tuple[int, int], size: tuple[int, int], cutout_format: str) -> messages.Buffer:
    """The place_layer buffer ``cutout``: the outbox's RGBA PNG file (``native`` = (width,
    height)) at ``size``, as ``cutout_format`` ("png": the file itself when no resize is needed; "rgba8")."""
    if cutout_format == "png" and size == native:
        return messages.buffer("cutout", png, format="png", width=size[0], height=size[1])
    bgra = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if bgra is None or bgra.ndim != 3 or bgra.shape[2] != 4:
        raise ValueError("the outbox's cut-out is not an RGBA PNG")
    rgba = resize_rgba(cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA), size)
    if cutout_format == "rgba8":
        return messages.buffer("cutout", rgba.tobytes(), format="rgba8", width=size[0], height=size[1])
    return messages.buffer("cutout", encode_png(rgba, compression=1), format="png", width=size[0], height=size[1])


def document_size(snapshot: messages.Message) -> tuple[int, int]:
    """The (width, height) of the document a ``snapshot`` answer describes."""
    return int(snapshot.fields["document"]["width"]), int(snapshot.fields["document"]["height"])


class Deliveries:
    """Parameters: ``outbox``; ``clients``: the engine's connections now; ``on_cpu``: runs a
    function on the engine's CPU workers (PNG decoding and resizing); ``screenshot``: takes a
    desktop screenshot ((H, W, 3) uint8 RGB, or None), for locating photos where an editor's
    snapshot is not enough (None: never)."""

    def __init__(
        self,
        outbox: Outbox,
        clients: Callable[[], Iterable[Client]],
        on_cpu: Callable[..., Awaitable[Any]],
        *,
        place_timeout: float = PLACE_TIMEOUT_S,
        screenshot: Callable[[], np.ndarray | None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.screenshot = screenshot
        self.clients = clients
        self.on_cpu = on_cpu
        self.place_timeout = place_timeout
        self.finishing: dict[str, asyncio.Task] = {}
        self._sending: set[str] = set()

    def pick(self, target: str | None) -> Client | None:
        return pick_editor(self.clients(), target)

    async def snapshot(self, editor: Client, max_side: int = DEFAULT_SNAPSHOT_MAX_SIDE) -> messages.Message | None:
        """The editor's answer to canvas_snapshot (longest side ``max_side``: by default the protocol's,
        what a photo is located in), or None (not offered, refused, late, or the editor left)."""
        if "canvas_snapshot" not in editor.accepts:
            return None
        try:
            answer = await editor.ask(messages.canvas_snapshot(max_side=max_side), SNAPSHOT_TIMEOUT_S)
        except (EditorGone, asyncio.TimeoutError, TimeoutError):
            return None
        return answer if answer.type == "snapshot" else None

    async def document_size(self, editor: Client) -> tuple[int, int] | None:
        """The (width, height) of the editor's active document, or None when it does not say."""
        answer = await self.snapshot(editor, max_side=SIZE_ONLY_SIDE)
        return None if answer is None else document_size(answer)

    def finish_later(self, cut: str, work: Awaitable[None]) -> None:
        """Run ``work`` (the full-resolution cut-out, staged when done) in the background."""
        task = asyncio.ensure_future(work)
        self.finishing[cut] = task

        def done(task: asyncio.Task) -> None:
            self.finishing.pop(cut, None)
            error = None if task.cancelled() else task.exception()
            if isinstance(error, SoftcutError):  # a full disk, say: the paste will report it
                log.error("cut %s: the full-resolution cut-out failed: %s", cut, error)
            elif error is not None:
                log.error("cut %s: the full-resolution cut-out failed", cut, exc_info=error)

        task.add_done_callback(done)

    async def ready(self, cut: str, resume: Callable[[Delivery], Awaitable[None]]) -> Delivery:
        """The cut's outbox record, once its full-resolution cut-out is on disk.

        A cut whose photo was kept but whose cut-out is neither on disk nor being made (the
        engine stopped first, or making it failed) is made again with ``resume(record)``.
        Raises NotFound for an unknown or pasted cut, and whatever making the cut-out raised
        (StorageError for a full disk).
        """
        task = self.finishing.get(cut)
        kept = self.outbox.get(cut) if task is None else None
        if kept is not None and kept.state == CUTTING:
            log.info("cut %s: making its cut-out again from the kept photo", cut)
            self.finish_later(cut, resume(kept))
            task = self.finishing[cut]
        if task is None:  # nothing was being made: the record read above is the one
            delivery = kept
        else:
            await asyncio.shield(task)
            delivery = self.outbox.get(cut)
        if delivery is None or delivery.state == CUTTING:
            raise NotFound(f"cut {cut!r} is unknown or already pasted; cut it out again with phone_cut")
        return delivery

    async def send(self, editor: Client, delivery: Delivery) -> Outcome:
        """Send ``delivery`` to ``editor`` as place_layer and wait for ``placed``; ok removes it."""
        name = editor.name or editor.id
        if delivery.id in self._sending:
            return Outcome(False, f"{delivery.id} is already on its way to an editor", name)
        self._sending.add(delivery.id)
        try:
            native = (delivery.width, delivery.height)
            scale = delivery.scale
            if scale is None:  # kept while no editor was connected: fit it to this editor's document
                document = await self.document_size(editor)
                scale = 1.0 if document is None else fit_scale(native, document)
            png = await self.on_cpu(self.outbox.png, delivery.id)
            cutout = await self.on_cpu(cutout_buffer, png, native, scaled_size(native, scale), editor.cutout_format)
            request = messages.place_layer(delivery.id, cutout, name=delivery.name, x=delivery.x, y=delivery.y)
            try:
                answer = await editor.ask(request, self.place_timeout)
            except (EditorGone, asyncio.TimeoutError, TimeoutError):
                return Outcome(False, f"{name} did not place it — kept, will paste when an editor connects", name)
            self.acknowledge(answer)
            if answer.type == "placed" and answer.fields.get("ok"):
                return Outcome(True, str(answer.fields.get("message", "")), name)
            text = str(answer.fields.get("message") or "")
            return Outcome(False, f"{name} did not place it ({text}) — kept, will paste when an editor connects", name)
        except FileNotFoundError:  # placed and removed meanwhile (a late ack)
            return Outcome(True, "already placed", name)
        finally:
            self._sending.discard(delivery.id)

    def acknowledge(self, answer: messages.Message) -> None:
        """An editor's answer: ``placed`` ok removes its delivery from the outbox (even when it came late)."""
        if (answer.type == "placed" and answer.fields.get("ok")
                and self.outbox.remove(str(answer.fields.get("delivery", "")))):
            log.info("delivery %s placed and removed from the outbox", answer.fields.get("delivery"))

    async def send_pending(self, editor: Client) -> None:
        """Send ``editor`` every pending delivery addressed to it or to any editor, oldest first."""
        for delivery in self.outbox.pending():
            if editor.closed:
                return
            fresh = self.outbox.get(delivery.id)
            if fresh is None or fresh.state != PENDING or fresh.target not in (None, editor.name):
                continue
            outcome = await self.send(editor, fresh)
            log.info("pending delivery %s to %s: %s", fresh.id, outcome.editor, "placed" if outcome.ok else outcome.message)
