"""wire.editor's pure parts: what every plug-in sends for a choice, says when it fails, makes of
soft segments, plate files and phone requests. (Phone placement: tests/test_client_editor.py;
the flows' requests against a real engine: tests/test_editor_requests.py.)"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from wire.client import EngineError, EngineUnavailable, JobCancelledError, Result, SoftcutClient
from wire.client.models import model_choices
from wire.editor import (LAN_COMMAND, NOTHING_SELECTED, START_COMMAND, Deliveries, MatteOptions, PhoneAnswers,
                         Refused, active_edges, check_guide, checked_count, failure, not_inserted, outputs_for,
                         plate_file, plate_pixels, requested_model, segment_layers, stored_count)
from wire.protocol import messages
from wire.protocol.schemas import DEFAULT_SEGMENTS

UNCHANGED = "the image was not changed"


def test_each_output_asks_for_the_buffers_its_insertion_needs():
    assert outputs_for("selection") == outputs_for("mask") == ["alpha"]
    assert outputs_for("layer") == ["alpha", "foreground"]
    with pytest.raises(ValueError, match="output: expected one of"):
        outputs_for("channel")
    with pytest.raises(ValueError, match="output: expected one of"):
        MatteOptions(output="channel")


def test_edge_controls_at_rest_are_not_sent_and_keys_take_the_protocols_names():
    assert active_edges({"smooth": 0, "feather": 0.0, "contrast": 0.0, "shift-edge": 0.0}) == {}
    assert active_edges({"smooth": 0, "feather": 3, "shift-edge": -20.0}) == {"feather": 3.0, "shift_edge": -20.0}
    assert active_edges(None) == {}


def test_a_request_names_the_model_the_user_picked_and_none_for_the_engines_default():
    choices = model_choices([{"name": "tiny", "loaded": True, "present": True, "default": True},
                             {"name": "silueta", "loaded": False, "present": True, "default": False},
                             {"name": "birefnet-general", "loaded": False, "present": False, "default": False}])
    assert requested_model(choices, "silueta") == "silueta"
    assert requested_model(choices, "tiny") is None  # the default: the engine runs it when none is named
    assert requested_model(choices, None) is None
    assert requested_model(choices, "birefnet-general") is None  # absent: the default instead
    assert requested_model([], "silueta") is None  # before the engine's list is known


def test_a_blank_selection_is_refused_before_any_request():
    with pytest.raises(Refused, match=NOTHING_SELECTED):
        check_guide(bytes(12))
    check_guide(bytes([0, 0, 1]))


@pytest.mark.parametrize("exc, says", [
    (EngineUnavailable("connection refused on 127.0.0.1:1"),
     f"the Softcut engine is not reachable (connection refused on 127.0.0.1:1). Start it with `{START_COMMAND}`; "),
    (JobCancelledError("cancelled"), "cancelled; "),
    (EngineError("alignment_failed", "the clean plate does not match the image."),
     "the clean plate does not match the image; "),
    (EngineError("bad_request", "count: expected 2–10"), "the engine could not do it: count: expected 2–10 (bad_request); "),
    (RuntimeError("boom"), "Softcut failed: boom; "),
])
def test_a_failure_says_why_and_that_nothing_changed(exc, says):
    assert failure(exc, UNCHANGED) == says + UNCHANGED


def test_texts_name_the_commands():
    assert START_COMMAND == "softcut serve" and LAN_COMMAND == "softcut serve --lan"
    assert not_inserted(ValueError("the layer is gone")) == "the result could not be inserted: the layer is gone"


def test_soft_segments_become_named_layers_bottom_first():
    result = Result({"count": 3, "result": "r1"}, {f"segment{k}": bytes([k] * 8) for k in range(3)})
    assert segment_layers(result) == [("Segment 1", bytes([0] * 8)), ("Segment 2", bytes([1] * 8)),
                                      ("Segment 3", bytes([2] * 8))]


def test_a_segment_count_is_checked_and_a_stored_one_falls_back_to_the_default():
    assert checked_count("4") == 4
    for bad in (1, 11, "many"):
        with pytest.raises(ValueError):
            checked_count(bad)
        assert stored_count(bad) == DEFAULT_SEGMENTS
    assert stored_count(None) == DEFAULT_SEGMENTS and stored_count("7") == 7


def _file(fmt: str, size=(6, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 10)).save(out, format=fmt)
    return out.getvalue()


def test_a_png_or_jpeg_plate_goes_as_it_is_and_other_files_are_the_editors_to_decode():
    for fmt, name in (("PNG", "png"), ("JPEG", "jpeg")):
        spec, data = plate_file(_file(fmt), "'plate'")
        assert (spec.name, spec.format, spec.width, spec.height) == ("plate", name, 6, 4)
        assert bytes(data) == _file(fmt)
    assert plate_file(_file("BMP"), "'plate.bmp'") is None
    spec, data = plate_pixels(2, 1, bytes(8))
    assert (spec.name, spec.format, spec.width, spec.height, bytes(data)) == ("plate", "rgba8", 2, 1, bytes(8))


def test_a_damaged_plate_file_says_so():
    with pytest.raises(ValueError, match="the clean plate file 'cut.png' is damaged"):
        plate_file(_file("PNG")[:20], "'cut.png'")


def test_a_snapshot_is_the_document_scaled_down_to_the_asked_side():
    asked = []

    def render(width, height):
        asked.append((width, height))
        return width, height, bytes(3 * width * height)

    answer = PhoneAnswers(Deliveries(str, print), lambda: (3200, 1600), render, print).snapshot(
        messages.canvas_snapshot(max_side=800))
    assert asked == [(800, 400)]
    spec, data = answer["buffers"][0]
    assert (spec.name, spec.format, spec.width, spec.height) == ("image", "rgb8", 800, 400)
    assert answer["document"] == {"width": 3200, "height": 1600} and answer["view"] is None

    def no_document():
        raise LookupError("no document is open")

    with pytest.raises(LookupError, match="no document"):
        PhoneAnswers(Deliveries(str, print), no_document, render, print).snapshot(messages.canvas_snapshot())


def test_phone_answers_carry_an_editors_answers_on_its_client():
    stored, inserted = [""], []
    answers = PhoneAnswers(Deliveries(lambda: stored[0], lambda text: stored.__setitem__(0, text)), lambda: (40, 30),
                           lambda w, h: (w, h, bytes(3 * w * h)), lambda *placed: inserted.append(placed))
    cutout = messages.buffer("cutout", bytes(4 * 4 * 2), format="rgba8", width=4, height=2)
    request = messages.place_layer("d1", cutout, name="Mug", x=None, y=None)
    assert answers.place(request) == {"delivery": "d1", "ok": True, "message": "placed at (18, 14)"}
    assert inserted[0][:5] == ("Mug", 18, 14, 4, 2)
    assert answers.snapshot(messages.canvas_snapshot())["document"] == {"width": 40, "height": 30}
    client = answers.client("127.0.0.1", 1, name="softcut-test", timeout=1.0)
    assert isinstance(client, SoftcutClient) and client.cutout_format == "rgba8" and client.name == "softcut-test"
    assert client.accepts == {"canvas_snapshot": answers.snapshot, "place_layer": answers.place}


def test_deliveries_kept_in_a_file_outlive_the_editor_run(tmp_path):
    path = tmp_path / "softcut-phone-delivered.json"
    assert Deliveries.in_file(str(path)).ids() == []  # no file yet
    Deliveries.in_file(str(path)).remember("d1")
    assert Deliveries.in_file(str(path)).placed("d1") and path.read_text(encoding="utf-8") == '["d1"]'
