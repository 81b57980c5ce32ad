"""``phone_paste``: put a phone_cut's cut-out into an editor, where the photo of its screen points.

Flow: the cut's full-resolution cut-out (waiting for it if still being finished) →
the target editor (named, else the last active one; none: the delivery is kept
pending for the next editor that connects) → ``canvas_snapshot`` (3 s at most) while
the photo decodes → :func:`core.phone.locate.locate` (photo centre → snapshot pixel →
document pixel). When that finds nothing (a plain part of the document) the engine takes a desktop screenshot, locates the photo on it and maps the
screen point into the document through the editor's ``view`` or, without one, by
finding the snapshot itself on the screen → the cut-out's scale
(:mod:`core.phone.placement`) → ``place_layer`` → the editor's ``placed``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial

import numpy as np

from core.phone.homography import scale_matrix
from core.phone.locate import Location, locate
from core.phone.placement import find_on_screen, paste_scale, rect_to_document, scaled_size, through, top_left, viewfinder_scale
from engine_server import images
from engine_server.connections import Client
from engine_server.jobs import QUEUED
from engine_server.phone.deliveries import document_size
from engine_server.phone.outbox import Delivery
from engine_server.operations import phone_cut
from engine_server.operations.common import Reply
from wire.protocol import messages

TYPES = ("phone_paste",)
KIND = QUEUED

KEPT = "no editor connected — kept, will paste when one connects"
AT_CENTRE = "screen not found — pasted at centre"
OFF_CANVAS = 0.05
"""How far outside the document (a share of its size) a located point may fall and still count."""


@dataclass(frozen=True)
class Aim:
    """Where the paste photo points: ``location`` in document pixels (x None: not found), the
    document's (width, height) (None: the editor did not say), ``through`` "snapshot" or "screen"."""

    location: Location
    document: tuple[int, int] | None
    through: str | None = None


NOT_FOUND = Location(None, None, 0.0, 0, 0)


def snapshot_to_document(shot: np.ndarray, document: tuple[int, int]) -> np.ndarray:
    """(3, 3) snapshot pixels → document pixels (the snapshot is the document scaled)."""
    return scale_matrix(document[0] / shot.shape[1], document[1] / shot.shape[0])


def on_document(location: Location, document: tuple[int, int]) -> Location:
    """``location`` if it falls on the document (within :data:`OFF_CANVAS`), else not found."""
    if location.x is None or location.y is None:
        return location
    mx, my = OFF_CANVAS * document[0], OFF_CANVAS * document[1]
    if -mx <= location.x <= document[0] - 1 + mx and -my <= location.y <= document[1] - 1 + my:
        return location
    return NOT_FOUND


def screen_to_document(screen: np.ndarray, answer: messages.Message, shot: np.ndarray,
                       document: tuple[int, int]) -> np.ndarray | None:
    """(3, 3) screen pixels → document pixels: from the editor's ``view``, else by finding its
    snapshot ``shot`` on the screen; None when neither is possible."""
    view = answer.fields.get("view")
    if view:
        return rect_to_document(view, document)
    shot_to_screen = find_on_screen(screen, shot)
    if shot_to_screen is None:
        return None
    return snapshot_to_document(shot, document) @ np.linalg.inv(shot_to_screen)


def _decode_rgb8(engine, message: messages.Message, buffer: str, label: str):
    """Decode ``message``'s buffer ``buffer`` to (h, w, 3) uint8 RGB on the CPU workers (an awaitable)."""
    spec, data = message.buffer(buffer)
    return engine.on_cpu(partial(images.decode_rgb8, data, spec.format, spec.width, spec.height,
                                 max_pixels=engine.limits.max_pixels, name=label))


async def _aim(engine, deliveries, editor: Client, decoding: asyncio.Future, timings: dict) -> Aim:
    """Locate the photo (``decoding``: its (h, w, 3) uint8 RGB, on its way) in the editor's
    snapshot; failing that, on a desktop screenshot."""
    started = time.perf_counter()
    answer = await deliveries.snapshot(editor)
    timings["snapshot"] = round(time.perf_counter() - started, 4)
    photo = await decoding
    if answer is None:
        return Aim(NOT_FOUND, None)
    document = document_size(answer)
    shot = await _decode_rgb8(engine, answer, "image", "snapshot")
    started = time.perf_counter()
    found = await engine.on_cpu(locate, shot, photo)
    timings["locate"] = round(time.perf_counter() - started, 4)
    located = on_document(through(found, snapshot_to_document(shot, document)), document)
    if located.x is not None:
        return Aim(located, document, "snapshot")
    if deliveries.screenshot is None:
        return Aim(NOT_FOUND, document)
    started = time.perf_counter()
    screen = await engine.on_cpu(deliveries.screenshot)
    if screen is None:
        return Aim(NOT_FOUND, document)
    to_document = await engine.on_cpu(screen_to_document, screen, answer, shot, document)
    if to_document is None:
        return Aim(NOT_FOUND, document)
    found = await engine.on_cpu(locate, screen, photo)
    timings["screen"] = round(time.perf_counter() - started, 4)
    located = on_document(through(found, to_document), document)
    return Aim(located, document, "screen" if located.x is not None else None)


def placement(aim: Aim, delivery: Delivery, photo_size: tuple[int, int]) -> tuple[int | None, int | None, float | None]:
    """(x, y, scale): the cut-out's top-left in document pixels (None: centre it) and its scale
    (None: fit it to the document on delivery)."""
    size = (delivery.width, delivery.height)
    if aim.document is None:
        return None, None, None
    view_scale = None
    location = aim.location
    if location.x is not None and location.homography is not None and delivery.photo_width:
        view_scale = viewfinder_scale(location.homography, photo_size, (delivery.photo_width, delivery.photo_height))
    scale = paste_scale(size, aim.document, view_scale=view_scale)
    if location.x is None:
        return None, None, scale
    x, y = top_left((location.x, location.y), scaled_size(size, scale))
    return x, y, scale


async def run(ctx, job, request) -> Reply:
    engine, deliveries, fields = ctx.engine, ctx.deliveries, request.fields
    started = time.perf_counter()
    delivery = await deliveries.ready(str(fields["cut"]), partial(phone_cut.resume, engine, deliveries))
    timings = {"cut": round(time.perf_counter() - started, 4)}
    job.report(0.1, "cut")
    name = str(fields["name"])
    target = fields.get("target")
    editor = deliveries.pick(target)
    if editor is None:
        deliveries.outbox.make_pending(delivery.id, x=None, y=None, target=target, name=name)
        return Reply({"status": "kept", "delivery": delivery.id, "x": None, "y": None, "message": KEPT,
                      "timings": timings})
    decoding = asyncio.ensure_future(_decode_rgb8(engine, request, "photo", "photo"))
    aim = await _aim(engine, deliveries, editor, decoding, timings)
    photo = await decoding
    x, y, scale = placement(aim, delivery, (photo.shape[1], photo.shape[0]))
    job.report(0.6, "locate")
    placing = deliveries.outbox.make_pending(delivery.id, x=x, y=y, target=target, name=name, scale=scale)
    started = time.perf_counter()
    outcome = await deliveries.send(editor, placing)
    timings["place"] = round(time.perf_counter() - started, 4)
    fields_out = {"delivery": delivery.id, "editor": outcome.editor, "timings": timings}
    if not outcome.ok:
        return Reply({"status": "kept", "x": None, "y": None, "message": outcome.message, **fields_out})
    if x is None:
        return Reply({"status": "placed_at_centre", "x": None, "y": None, "message": AT_CENTRE, **fields_out})
    return Reply({"status": "placed", "x": x, "y": y, "confidence": round(float(aim.location.confidence), 4),
                  "scale": round(scale, 4), "through": aim.through,
                  "message": f"pasted into {outcome.editor} at ({x}, {y})", **fields_out})
