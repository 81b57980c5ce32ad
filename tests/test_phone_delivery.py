"""Kept phone cut-outs and their delivery on a real engine (in this process, loopback, the tiny
model): a paste with no editor is kept in the outbox and delivered when one connects (fitted to its
document), a refused delivery is sent again at the next hello and never after its ack, a pending cut
survives a restart, an editor asking for rgba8 gets the cut-out raw."""

from __future__ import annotations

import pytest
from phone_support import (
    TOKEN,
    Editor,
    PhoneEngine,
    eventually,
    new_cut,
    phone_engine,
    png_rgba,
    rgb8,
)
from sample_images import textured

from wire.client import SoftcutClient

KEPT = "no editor connected — kept, will paste when one connects"


@pytest.fixture
def engine(tiny_model, tmp_path):
    yield from phone_engine(tiny_model, tmp_path)


def test_paste_without_an_editor_is_kept_on_disk_then_delivered_when_one_connects(engine):
    with engine.phone() as phone:
        cut = new_cut(phone)
        result = phone.phone_paste(cut, rgb8("photo", textured(120, 160)), name="Mug")
    assert result.fields["status"] == "kept" and result.fields["message"] == KEPT
    assert result.fields["delivery"] == cut and result.fields["x"] is None
    record = engine.records()[cut]
    assert (record["state"], record["name"], record["x"], record["target"]) == ("pending", "Mug", None, None)
    assert (engine.outbox / f"{cut}.png").is_file()
    editor = Editor(engine.port)
    try:
        eventually(lambda: not engine.records(), "the delivery to be placed and removed")
        (request,) = editor.requests
        assert request.type == "place_layer" and request.fields == {"delivery": cut, "name": "Mug", "x": None, "y": None}
        spec, data = request.buffer("cutout")
        cutout = png_rgba(data)  # the subject, cropped out of the 320 x 240 photo
        assert spec.format == "png" and cutout.shape[:2] == (spec.height, spec.width)
        assert spec.width < 320 and spec.height < 240 and cutout[spec.height // 2, spec.width // 2, 3] > 240
        # the record goes first, its PNG right after (on the engine's thread)
        eventually(lambda: not list(engine.outbox.iterdir()), "the outbox to be empty")
    finally:
        editor.close()


def test_a_kept_cut_out_larger_than_the_document_is_fitted_to_it_on_delivery(engine):
    with engine.phone() as phone:
        cut = new_cut(phone)  # the disc, about 150 x 150
        assert phone.phone_paste(cut, rgb8("photo", textured(120, 160))).fields["status"] == "kept"
    native = engine.records()[cut]
    sizes = []

    def snapshot(request):
        sizes.append(request.fields["max_side"])
        return {"document": {"width": 100, "height": 60}, "view": None, "buffers": [rgb8("image", textured(10, 16))]}

    editor = Editor(engine.port, snapshot=snapshot)
    try:
        eventually(lambda: not engine.records(), "the delivery")
        (request,) = editor.requests
        spec, data = request.buffer("cutout")
        scale = min(100 / native["width"], 60 / native["height"])
        assert (spec.width, spec.height) == (round(native["width"] * scale), round(native["height"] * scale))
        assert spec.height == 60 and png_rgba(data).shape == (spec.height, spec.width, 4)
        assert sizes == [16] and request.fields["x"] is None  # only the size was asked for; centred
    finally:
        editor.close()

def test_a_refused_delivery_is_kept_sent_again_at_the_next_hello_and_never_after_its_ack(engine):
    refusing = Editor(engine.port, answers=[(False, "no document is open")])
    try:
        with engine.phone() as phone:
            cut = new_cut(phone)
            result = phone.phone_paste(cut, rgb8("photo", textured(90, 120)))
        assert result.fields["status"] == "kept" and "no document is open" in result.fields["message"]
        assert engine.records()[cut]["state"] == "pending"
    finally:
        refusing.close()
    again = Editor(engine.port)
    try:
        eventually(lambda: not engine.records(), "the second delivery's ack")
        assert [r.fields["delivery"] for r in again.requests] == [cut]
    finally:
        again.close()
    later = Editor(engine.port)
    try:
        assert later.client.status()["clients"] == 1  # its hello is done: pending deliveries went out then
        assert later.requests == []
    finally:
        later.close()


def test_a_pending_cut_survives_a_restart_and_is_delivered_once(tiny_model, tmp_path):
    first = PhoneEngine(tiny_model, tmp_path / "outbox")
    try:
        with first.phone() as phone:
            cut = new_cut(phone)
            assert phone.phone_paste(cut, rgb8("photo", textured(90, 120))).fields["status"] == "kept"
    finally:
        first.stop()
    second = PhoneEngine(tiny_model, tmp_path / "outbox")
    try:
        assert list(second.records()) == [cut]
        editor = Editor(second.port)
        try:
            eventually(lambda: not second.records(), "the delivery after the restart")
        finally:
            editor.close()
        assert [r.fields["delivery"] for r in editor.requests] == [cut]
        again = Editor(second.port)
        try:
            assert again.client.status()["jobs_done"] == 0 and again.requests == []
        finally:
            again.close()
    finally:
        second.stop()


def test_an_editor_asking_for_rgba8_gets_the_cutout_raw(engine):
    with engine.phone() as phone:
        cut = new_cut(phone)
        phone.phone_paste(cut, rgb8("photo", textured(90, 120)))
    got = []
    editor = SoftcutClient(port=engine.port, token=TOKEN, name="softcut-photoshop", cutout_format="rgba8",
                           accepts={"place_layer": lambda r: got.append(r) or {"delivery": r.fields["delivery"], "ok": True}})
    with editor:
        assert editor.poll(30) == 1
    spec, data = got[0].buffer("cutout")
    assert spec.format == "rgba8" and len(data) == spec.width * spec.height * 4
    assert spec.width < 320 and spec.height < 240  # the subject, cropped out of the photo
    eventually(lambda: not engine.records(), "the ack")

