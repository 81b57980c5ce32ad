"""``phone_paste``: put a phone_cut's cut-out into an editor, where the photo of its screen points.

Flow: the cut's full-resolution cut-out (waiting for it if still being finished) →
the target editor (named, else the last active one; none: the delivery is kept
pending for the next editor that connects) → ``canvas_snapshot`` (3 s at most) while
the photo decodes → :func:`core.locate.locate` (photo centre → snapshot pixel) →
document pixels → ``place_layer`` → the editor's ``placed``.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

import numpy as np

from engine_server import images
from engine_server.connections import Client, EditorGone
from engine_server.operations.common import Reply
from engine_server.protocol import messages
from engine_server.protocol.schemas import DEFAULT_LAYER_NAME

SNAPSHOT_TIMEOUT_S = 3.0
SNAPSHOT_MAX_SIDE = 1600
KEPT = "no editor connected — kept, will paste when one connects"
AT_CENTRE = "screen not found — pasted at centre"


def top_left(location_xy: tuple[float, float], snapshot_size: tuple[int, int], document: dict,
             cutout_size: tuple[int, int]) -> tuple[int, int]:
    """Document pixels of the cut-out's top-left so that its centre lands where the photo points.

    location_xy: (x, y) in snapshot pixels (pixel centres at integers);
    snapshot_size, cutout_size: (width, height); document: {width, height}.
    """
    sx = document["width"] / snapshot_size[0]
    sy = document["height"] / snapshot_size[1]
    cx = (location_xy[0] + 0.5) * sx
    cy = (location_xy[1] + 0.5) * sy
    return round(cx - cutout_size[0] / 2), round(cy - cutout_size[1] / 2)


def locate_in(snapshot_rgb: np.ndarray, photo_rgb: np.ndarray):
    """core.locate on (h, w, 3) uint8 images; imported here so the engine starts without it."""
    from core.locate import locate

    return locate(snapshot_rgb, photo_rgb)


async def _snapshot(editor: Client) -> messages.Message | None:
    """The editor's snapshot answer, or None (refused, late, not offered, or the editor left)."""
    if "canvas_snapshot" not in editor.accepts:
        return None
    try:
        answer = await editor.ask(messages.canvas_snapshot(max_side=SNAPSHOT_MAX_SIDE), SNAPSHOT_TIMEOUT_S)
    except (EditorGone, asyncio.TimeoutError, TimeoutError):
        return None
    return answer if answer.type == "snapshot" else None


def _decode_rgb8(engine, message: messages.Message, buffer: str, label: str):
    """Decode ``message``'s buffer ``buffer`` to (h, w, 3) uint8 RGB on the CPU workers (an awaitable)."""
    spec, data = message.buffer(buffer)
    return engine.on_cpu(partial(images.decode_rgb8, data, spec.format, spec.width, spec.height,
                                 max_pixels=engine.limits.max_pixels, name=label))


async def _locate(engine, editor: Client, request, cutout_size: tuple[int, int], timings: dict) -> tuple:
    """(x, y, confidence): the cut-out's top-left in document pixels, or (None, None, 0.0)."""
    started = time.perf_counter()
    photo_task = asyncio.ensure_future(_decode_rgb8(engine, request, "photo", "photo"))
    answer = await _snapshot(editor)
    timings["snapshot"] = round(time.perf_counter() - started, 4)
    photo = await photo_task
    if answer is None:
        return None, None, 0.0
    shot = await _decode_rgb8(engine, answer, "image", "snapshot")
    started = time.perf_counter()
    location = await engine.on_cpu(locate_in, shot, photo)
    timings["locate"] = round(time.perf_counter() - started, 4)
    if location.x is None or location.y is None:
        return None, None, 0.0
    size = (shot.shape[1], shot.shape[0])
    x, y = top_left((location.x, location.y), size, answer.fields["document"], cutout_size)
    return x, y, round(float(location.confidence), 4)


async def run(engine, deliveries, job, request) -> Reply:
    fields = request.fields
    started = time.perf_counter()
    delivery = await deliveries.ready(str(fields["cut"]))
    timings = {"cut": round(time.perf_counter() - started, 4)}
    job.report(0.1, "cut")
    name = str(fields.get("name", DEFAULT_LAYER_NAME))
    target = fields.get("target")
    editor = deliveries.pick(target)
    if editor is None:
        deliveries.outbox.make_pending(delivery.id, x=None, y=None, target=target, name=name)
        return Reply({"status": "kept", "delivery": delivery.id, "x": None, "y": None, "message": KEPT,
                      "timings": timings})
    x, y, confidence = await _locate(engine, editor, request, (delivery.width, delivery.height), timings)
    job.report(0.6, "locate")
    placing = deliveries.outbox.make_pending(delivery.id, x=x, y=y, target=target, name=name)
    started = time.perf_counter()
    outcome = await deliveries.send(editor, placing)
    timings["place"] = round(time.perf_counter() - started, 4)
    fields_out = {"delivery": delivery.id, "editor": outcome.editor, "timings": timings}
    if not outcome.ok:
        return Reply({"status": "kept", "x": None, "y": None, "message": outcome.message, **fields_out})
    if x is None:
        return Reply({"status": "placed_at_centre", "x": None, "y": None, "message": AT_CENTRE, **fields_out})
    return Reply({"status": "placed", "x": x, "y": y, "confidence": confidence,
                  "message": f"pasted into {outcome.editor} at ({x}, {y})", **fields_out})
