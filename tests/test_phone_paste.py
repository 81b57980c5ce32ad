"""phone_paste into a connected editor on a real engine (in this process, loopback, the tiny model):
placed where the photo of the screen points (located on the editor's snapshot), at the share of the view
the subject had, at the centre when the screen is not found; the last active or the named editor gets
it; an unknown or already pasted cut is not found."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from phone_support import Editor, eventually, new_cut, phone_engine, png_rgba, rgb8
from sample_images import textured

from engine_server.operations import phone_paste
from wire.client import EngineError
from wire.protocol import messages


@pytest.fixture
def engine(tiny_model, tmp_path):
    yield from phone_engine(tiny_model, tmp_path)


def test_paste_into_an_editor_whose_screen_is_located(engine):
    document = textured(600, 800, seed=3)  # the snapshot; the document is twice its size
    x0, y0, w, h = 380, 200, 320, 240
    photo = cv2.resize(document[y0:y0 + h, x0:x0 + w], (w * 3, h * 3), interpolation=cv2.INTER_CUBIC)

    def snapshot(request):
        assert request.fields["max_side"] == 1600
        return {"document": {"width": 1600, "height": 1200}, "view": None, "buffers": [rgb8("image", document)]}

    editor = Editor(engine.port, snapshot=snapshot)
    try:
        with engine.phone() as phone:
            cut = new_cut(phone)
            result = phone.phone_paste(cut, rgb8("photo", photo))
        fields = result.fields
        assert fields["status"] == "placed" and fields["editor"] == "softcut-test-editor", fields
        # The photo's centre is the crop's: snapshot (539.5, 319.5) = document (1080, 640); the
        # cut-out (the subject cropped out of the photo) is centred there.
        (request,) = editor.requests
        spec, _ = request.buffer("cutout")
        assert abs(fields["x"] - (1080 - spec.width / 2)) <= 6 and abs(fields["y"] - (640 - spec.height / 2)) <= 6, fields
        assert fields["message"] == f"pasted into softcut-test-editor at ({fields['x']}, {fields['y']})"
        assert 0 < fields["confidence"] <= 1 and fields["delivery"] == cut and fields["through"] == "snapshot"
        assert fields["scale"] == 1.0  # the subject's share of the view would need 2x: never enlarged
        assert (request.fields["x"], request.fields["y"]) == (fields["x"], fields["y"])
        assert not engine.records()
    finally:
        editor.close()


def test_the_cut_out_covers_the_share_of_the_view_the_subject_had_in_its_photo(engine):
    document = textured(600, 800, seed=5)
    x0, y0, w, h = 300, 200, 160, 120  # the photo sees 160 x 120 snapshot = document pixels
    photo = cv2.resize(document[y0:y0 + h, x0:x0 + w], (960, 720), interpolation=cv2.INTER_CUBIC)

    def snapshot(request):
        return {"document": {"width": 800, "height": 600}, "view": None, "buffers": [rgb8("image", document)]}

    editor = Editor(engine.port, snapshot=snapshot)
    try:
        with engine.phone() as phone:
            cut = new_cut(phone)  # from a 320 x 240 photo
            eventually(lambda: engine.records().get(cut, {}).get("state") == "staged", "the full-resolution cut-out")
            native = engine.records()[cut]  # read before the paste: placing it removes the record
            fields = phone.phone_paste(cut, rgb8("photo", photo)).fields
        assert fields["status"] == "placed" and fields["through"] == "snapshot", fields
        # 1/6 document px per paste-photo px, 960/320 paste-photo px per cut-photo px: 0.5
        assert fields["scale"] == pytest.approx(0.5, abs=0.02), fields
        (request,) = editor.requests
        spec, data = request.buffer("cutout")
        assert (spec.width, spec.height) == (round(native["width"] * fields["scale"]),
                                             round(native["height"] * fields["scale"]))
        assert png_rgba(data).shape[:2] == (spec.height, spec.width) and spec.width < 160
        # centred where the photo's centre points: document (380, 260)
        assert abs(fields["x"] + spec.width / 2 - 380) <= 3 and abs(fields["y"] + spec.height / 2 - 260) <= 3, fields
    finally:
        editor.close()


def test_without_a_view_the_snapshot_found_on_the_screen_maps_screen_to_document():
    from testing.locate_synthetic import editor_screen

    document = textured(400, 600, seed=11)
    screen, viewport = editor_screen(document, np.random.default_rng(3))
    shot = cv2.resize(document, (300, 200), interpolation=cv2.INTER_AREA)  # the snapshot, half size
    answer = messages.snapshot("r1", messages.buffer("image", shot.tobytes(), format="rgb8", width=300, height=200),
                               document={"width": 600, "height": 400})
    to_document = phone_paste.screen_to_document(screen, answer, shot, (600, 400))
    doc_to_screen = viewport.doc_to_screen()
    left, top, right, bottom = viewport.visible_document(600, 400)
    for fx, fy in ((0.3, 0.3), (0.5, 0.5), (0.7, 0.6)):
        sx, sy = left + fx * (right - left), top + fy * (bottom - top)
        truth = np.linalg.solve(doc_to_screen, [sx, sy, 1.0])[:2]
        mapped = (to_document @ np.array([sx, sy, 1.0]))
        assert np.hypot(*(mapped[:2] / mapped[2] - truth)) <= 2.0, (fx, fy, mapped, truth)
    blank = np.full_like(screen, 128)
    assert phone_paste.screen_to_document(blank, answer, shot, (600, 400)) is None


def test_paste_at_centre_when_the_screen_is_not_found_or_no_document_is_open(engine):
    open_documents = [True, False]

    def snapshot(request):  # a plain grey document: nothing in it to match the photo
        if not open_documents.pop(0):
            raise LookupError("no document is open")
        return {"document": {"width": 400, "height": 300}, "view": {"x": 0, "y": 0, "width": 400, "height": 300},
                "buffers": [rgb8("image", np.full((300, 400, 3), 128, np.uint8))]}

    editor = Editor(engine.port, snapshot=snapshot)
    try:
        with engine.phone() as phone:
            for _ in range(2):
                result = phone.phone_paste(new_cut(phone), rgb8("photo", textured(90, 120)))
                assert result.fields["status"] == "placed_at_centre"
                assert result.fields["message"] == "screen not found — pasted at centre"
                assert result.fields["x"] is None and result.fields["y"] is None
        assert [r.fields["x"] for r in editor.requests] == [None, None] and not engine.records()
    finally:
        editor.close()


def test_the_last_active_editor_or_the_named_one_gets_the_paste(engine):
    first, second = Editor(engine.port, name="softcut-krita"), Editor(engine.port, name="softcut-gimp")
    try:
        with engine.phone() as phone:
            assert phone.phone_paste(new_cut(phone), rgb8("photo", textured(90, 120))).fields["editor"] == "softcut-gimp"
            first.client.status()  # krita is the most recently active now
            assert phone.phone_paste(new_cut(phone), rgb8("photo", textured(90, 120))).fields["editor"] == "softcut-krita"
            named = phone.phone_paste(new_cut(phone), rgb8("photo", textured(90, 120)), target="softcut-gimp")
            assert named.fields["editor"] == "softcut-gimp"
            nobody = phone.phone_paste(new_cut(phone), rgb8("photo", textured(90, 120)), target="softcut-photoshop")
            assert nobody.fields["status"] == "kept"
        assert (len(first.requests), len(second.requests)) == (1, 2)
        (kept,) = engine.records().values()
        assert kept["target"] == "softcut-photoshop"  # not sent to the others when they say hello again
    finally:
        first.close()
        second.close()


def test_an_unknown_or_pasted_cut_is_not_found(engine):
    editor = Editor(engine.port)
    try:
        with engine.phone() as phone:
            with pytest.raises(EngineError, match="not_found"):
                phone.phone_paste("d0123456789abcdef", rgb8("photo", textured(90, 120)))
            cut = new_cut(phone)
            assert phone.phone_paste(cut, rgb8("photo", textured(90, 120))).fields["status"] == "placed_at_centre"
            with pytest.raises(EngineError, match="not_found: cut .* already pasted"):
                phone.phone_paste(cut, rgb8("photo", textured(90, 120)))
    finally:
        editor.close()

