"""What every editor plug-in does the same way when the engine asks it something (phone paste).

The editor-specific part is reading the document and inserting a layer; the rest is here,
so the Krita and GIMP plug-ins (which vendor this package) answer alike:

- :func:`snapshot_size`: the size a ``canvas_snapshot`` image is scaled to;
- :class:`Deliveries`: the phone cut-outs already placed, kept in the editor's settings,
  so a delivery that comes twice is placed once;
- :func:`answer_place_layer`: a ``place_layer`` answer — once per delivery, rgba8 only,
  centred when the engine gives no position;
- :func:`split_rgba` and :data:`SEGMENT_GROUP`: a ``soft_segments`` layer's colours and mask,
  and the name of the group the layers go in.

Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..protocol.messages import Message
from ..protocol.schemas import DEFAULT_LAYER_NAME, DEFAULT_SNAPSHOT_MAX_SIDE

DELIVERIES_KEPT = 500
SEGMENT_GROUP = "Soft segments"
"""The layer group soft_segments' layers are inserted in."""


def split_rgba(rgba: bytes) -> tuple[bytes, bytes]:
    """rgba8 (4 bytes a pixel) → its rgb8 colours (3 bytes a pixel) and its grey8 alpha."""
    if len(rgba) % 4:
        raise ValueError(f"rgba8: expected a multiple of 4 bytes; got {len(rgba)}")
    rgb = bytearray(3 * (len(rgba) // 4))
    rgb[0::3] = rgba[0::4]
    rgb[1::3] = rgba[1::4]
    rgb[2::3] = rgba[2::4]
    return bytes(rgb), bytes(rgba[3::4])


def snapshot_size(width: int, height: int, request: Message) -> tuple[int, int]:
    """(width, height) of a document scaled down (never up) to the request's ``max_side``."""
    max_side = int(request.fields.get("max_side", DEFAULT_SNAPSHOT_MAX_SIDE))
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class Deliveries:
    """The ids of the phone cut-outs this editor placed (the most recent ``kept``).

    ``load()`` returns what ``save(text)`` last stored (a JSON list; anything else reads
    as empty), e.g. a settings entry or a small file.
    """

    def __init__(self, load: Callable[[], str], save: Callable[[str], None], *, kept: int = DELIVERIES_KEPT) -> None:
        self._load, self._save, self.kept = load, save, kept

    def ids(self) -> list[str]:
        try:
            ids = json.loads(self._load() or "[]")
        except (OSError, ValueError):
            return []
        return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []

    def placed(self, delivery: str) -> bool:
        return delivery in self.ids()

    def remember(self, delivery: str) -> None:
        ids = [i for i in self.ids() if i != delivery] + [delivery]
        self._save(json.dumps(ids[-self.kept:]))


Insert = Callable[[str, int, int, int, int, bytes], None]


def answer_place_layer(request: Message, deliveries: Deliveries, document_size: Callable[[], tuple[int, int]],
                       insert: Insert) -> dict:
    """The ``placed`` answer to ``place_layer`` ``request``.

    ``document_size()`` gives the target document's (width, height), or raises
    :class:`LookupError` saying why there is none; ``insert(name, x, y, width, height,
    rgba)`` puts the cut-out (rgba8, straight alpha, top-left at (x, y)) in as a new
    layer, one undo step. A delivery placed before is answered ok without placing.
    """
    fields = request.fields
    delivery = str(fields["delivery"])
    if deliveries.placed(delivery):
        return {"delivery": delivery, "ok": True, "message": "already placed"}
    spec, data = request.buffer("cutout")
    if spec.format != "rgba8":
        return {"delivery": delivery, "ok": False, "message": f"expected an rgba8 cut-out; got {spec.format}"}
    try:
        doc_width, doc_height = document_size()
    except LookupError as exc:
        return {"delivery": delivery, "ok": False, "message": str(exc).strip("'\"")}
    x, y = fields.get("x"), fields.get("y")
    if x is None or y is None:
        x, y = (doc_width - spec.width) // 2, (doc_height - spec.height) // 2
    insert(str(fields.get("name") or DEFAULT_LAYER_NAME), x, y, spec.width, spec.height, data)
    deliveries.remember(delivery)
    return {"delivery": delivery, "ok": True, "message": f"placed at ({x}, {y})"}
