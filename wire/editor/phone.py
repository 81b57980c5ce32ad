"""Phone cut & paste: an editor connection's answers to the engine's ``canvas_snapshot`` and
``place_layer`` (:class:`PhoneAnswers`); each delivery is placed once (:class:`Deliveries`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..client import SoftcutClient, raw_image
from ..protocol.messages import Message
from ..protocol.schemas import DEFAULT_LAYER_NAME, DEFAULT_SNAPSHOT_MAX_SIDE

DELIVERIES_KEPT = 500
Size = Callable[[], tuple[int, int]]
Render = Callable[[int, int], tuple[int, int, bytes]]
Insert = Callable[[str, int, int, int, int, bytes], None]


def snapshot_size(width: int, height: int, request: Message) -> tuple[int, int]:
    """(width, height) of a document scaled down (never up) to the request's ``max_side``."""
    max_side = int(request.fields.get("max_side", DEFAULT_SNAPSHOT_MAX_SIDE))
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class Deliveries:
    """The ids of the phone cut-outs this editor placed (the latest ``kept``): ``load()`` returns what
    ``save(text)`` stored (a JSON list; anything else reads as empty), e.g. a settings entry or a file."""

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

    @classmethod
    def in_file(cls, path: str) -> Deliveries:
        """Ids kept in the file ``path`` (for an editor with no settings store of its own)."""
        file = Path(path)
        return cls(lambda: file.read_text(encoding="utf-8"), lambda text: file.write_text(text, encoding="utf-8"))


class PhoneAnswers:
    """An editor connection's answers. ``document_size()``: (width, height), or :class:`LookupError` saying
    why there is no document; ``render(width, height)``: the document as displayed, on white, scaled to
    that size, as ``(width, height, rgb8)`` made; ``insert(name, x, y, width, height, rgba)``: the
    cut-out (rgba8, straight alpha, top-left at (x, y)) as a new layer, one undo step."""

    def __init__(self, deliveries: Deliveries, document_size: Size, render: Render, insert: Insert) -> None:
        self.deliveries, self.document_size, self.render, self.insert = deliveries, document_size, render, insert

    def snapshot(self, request: Message) -> dict:
        """The ``snapshot`` answer; where the canvas is on screen is not given (``view`` null)."""
        doc_width, doc_height = self.document_size()
        width, height, rgb = self.render(*snapshot_size(doc_width, doc_height, request))
        return {"document": {"width": doc_width, "height": doc_height}, "view": None,
                "buffers": [raw_image(width, height, "rgb8", rgb)]}

    def place(self, request: Message) -> dict:
        """The ``placed`` answer; a delivery placed before is answered ok without placing."""
        fields = request.fields
        delivery = str(fields["delivery"])
        if self.deliveries.placed(delivery):
            return {"delivery": delivery, "ok": True, "message": "already placed"}
        spec, data = request.buffer("cutout")
        if spec.format != "rgba8":
            return {"delivery": delivery, "ok": False, "message": f"expected an rgba8 cut-out; got {spec.format}"}
        try:
            doc_width, doc_height = self.document_size()
        except LookupError as exc:
            return {"delivery": delivery, "ok": False, "message": str(exc).strip("'\"")}
        x, y = fields.get("x"), fields.get("y")
        if x is None or y is None:
            x, y = (doc_width - spec.width) // 2, (doc_height - spec.height) // 2
        self.insert(str(fields.get("name") or DEFAULT_LAYER_NAME), x, y, spec.width, spec.height, data)
        self.deliveries.remember(delivery)
        return {"delivery": delivery, "ok": True, "message": f"placed at ({x}, {y})"}

    def client(self, host: str, port: int, *, name: str, timeout: float) -> SoftcutClient:
        """A client (not yet connected) that answers with these; cut-outs come as rgba8."""
        return SoftcutClient(host, port, name=name, timeout=timeout, cutout_format="rgba8",
                             accepts={"canvas_snapshot": self.snapshot, "place_layer": self.place})
