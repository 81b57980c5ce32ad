"""What the Krita and GIMP plug-ins share from wire.editor for phone paste and soft segments."""

from __future__ import annotations

import pytest

from wire.editor import Deliveries, PhoneAnswers, snapshot_size, split_rgba
from wire.protocol import messages


def _place(x, y, *, fmt="rgba8", delivery="d1", name="Mug", size=(4, 2)):
    w, h = size
    data = bytes(range(w * h * (4 if fmt == "rgba8" else 3)))
    return messages.place_layer(delivery, messages.buffer("cutout", data, format=fmt, width=w, height=h),
                                name=name, x=x, y=y)


class Editor:
    """Records inserts; its settings are a string, as Krita's are."""

    def __init__(self, size=(40, 30)) -> None:
        self.size, self.stored, self.inserted = size, "", []
        self.deliveries = Deliveries(lambda: self.stored, self._save)

    def _save(self, text: str) -> None:
        self.stored = text

    def document_size(self):
        if self.size is None:
            raise LookupError("no document is open")
        return self.size

    def answer(self, request):
        answers = PhoneAnswers(self.deliveries, self.document_size, lambda w, h: (w, h, bytes(3 * w * h)),
                               lambda *placed: self.inserted.append(placed))
        return answers.place(request)


def test_a_delivery_is_inserted_at_its_place_once():
    editor = Editor()
    request = _place(5, -2)
    assert editor.answer(request) == {"delivery": "d1", "ok": True, "message": "placed at (5, -2)"}
    name, x, y, w, h, rgba = editor.inserted[0]
    assert (name, x, y, w, h, rgba) == ("Mug", 5, -2, 4, 2, bytes(range(32)))
    assert editor.answer(request) == {"delivery": "d1", "ok": True, "message": "already placed"}
    assert len(editor.inserted) == 1
    assert Deliveries(lambda: editor.stored, print).placed("d1")  # kept in the settings, not in memory


def test_no_position_centres_the_cutout_in_the_document():
    editor = Editor(size=(41, 30))
    editor.answer(_place(None, None, size=(10, 6)))
    assert editor.inserted[0][1:3] == (15, 12)


def test_refusals_insert_nothing_and_are_not_remembered():
    editor = Editor(size=None)
    assert editor.answer(_place(0, 0)) == {"delivery": "d1", "ok": False, "message": "no document is open"}
    editor.size = (8, 8)
    png = editor.answer(_place(0, 0, fmt="rgb8", delivery="d2"))
    assert png["ok"] is False and "rgba8" in png["message"]
    assert editor.inserted == [] and editor.deliveries.ids() == []
    assert editor.answer(_place(0, 0))["ok"] is True  # the refused delivery can still be placed


def test_only_the_most_recent_ids_are_kept_and_broken_settings_read_as_none():
    stored = ["not json"]
    deliveries = Deliveries(lambda: stored[0], lambda text: stored.__setitem__(0, text), kept=3)
    assert deliveries.ids() == []
    for i in range(5):
        deliveries.remember(f"d{i}")
    deliveries.remember("d3")
    assert deliveries.ids() == ["d2", "d4", "d3"]


def test_snapshot_size_scales_down_to_max_side_never_up():
    request = messages.canvas_snapshot(max_side=1600)
    assert snapshot_size(4000, 3000, request) == (1600, 1200)
    assert snapshot_size(300, 200, request) == (300, 200)
    assert snapshot_size(1000, 4000, messages.canvas_snapshot(max_side=100)) == (25, 100)


def test_split_rgba_gives_the_colours_and_the_alpha():
    rgb, alpha = split_rgba(bytes([1, 2, 3, 4, 5, 6, 7, 8]))
    assert rgb == bytes([1, 2, 3, 5, 6, 7]) and alpha == bytes([4, 8])
    with pytest.raises(ValueError, match="rgba8"):
        split_rgba(bytes(6))
