"""Phone cut & paste: what an editor connection answers when the engine asks it something.

The editor-specific part is reading the document and inserting a layer; the rest is here,
so the Krita and GIMP plug-ins answer alike:

- :class:`PhoneAnswers`: the editor connection's answers (``accepts`` for the client) and the
  client that carries them;
- :func:`answer_snapshot`: a ``canvas_snapshot`` answer, the document as displayed, scaled
  by :func:`snapshot_size`;
- :class:`Deliveries`: the phone cut-outs already placed, kept in the editor's settings,
  so a delivery that comes twice is placed once;
- :func:`answer_place_layer`: a ``place_layer`` answer — once per delivery, rgba8 only,
  centred when the engine gives no position.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..client import SoftcutClient, raw_image
from ..protocol.messages import Message
from ..protocol.schemas import DEFAULT_LAYER_NAME, DEFAULT_SNAPSHOT_MAX_SIDE

DELIVERIES_KEPT = 500


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


Size = Callable[[], tuple[int, int]]
Render = Callable[[int, int], tuple[int, int, bytes]]


def answer_snapshot(request: Message, document_size: Size, render: Render) -> dict:
    """The ``snapshot`` answer to ``canvas_snapshot`` ``request``.

    ``document_size()`` gives the document's (width, height), or raises :class:`LookupError`
    saying why there is none; ``render(width, height)`` gives the document as displayed,
    flattened on white, scaled to that size: ``(width, height, rgb8)`` as made. Where the
    canvas is on screen is not given (``view`` null).
    """
    doc_width, doc_height = document_size()
    width, height, rgb = render(*snapshot_size(doc_width, doc_height, request))
    return {"document": {"width": doc_width, "height": doc_height}, "view": None,
            "buffers": [raw_image(width, height, "rgb8", rgb)]}


class PhoneAnswers:
    """An editor connection's answers to the engine's phone requests.

    ``document_size``, ``render``: as :func:`answer_snapshot` takes them; ``insert``: as
    :func:`answer_place_layer` takes it; ``deliveries``: the ids placed so far.
    """

    def __init__(self, deliveries: Deliveries, document_size: Size, render: Render, insert: Insert) -> None:
        self.deliveries, self.document_size, self.render, self.insert = deliveries, document_size, render, insert

    def snapshot(self, request: Message) -> dict:
        return answer_snapshot(request, self.document_size, self.render)

    def place(self, request: Message) -> dict:
        return answer_place_layer(request, self.deliveries, self.document_size, self.insert)

    def client(self, host: str, port: int, *, name: str, timeout: float) -> SoftcutClient:
        """A client (not yet connected) that answers with these: cut-outs come as rgba8."""
        return SoftcutClient(host, port, name=name, timeout=timeout, cutout_format="rgba8",
                             accepts={"canvas_snapshot": self.snapshot, "place_layer": self.place})
