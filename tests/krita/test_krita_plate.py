"""Select Subject with Clean Plate in real Krita (tests/krita/krita_scenario_run.py): the plate as a
layer (hidden or not, offset) or a file, through the menu's dialog, the docker or a call; every result
equals the engine's plate_matte answer for the same pixels; a plate that cannot be used leaves the
document alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from editor_files import REFINE, TOLERANCE, direct_plate, facts, grey
from krita_checks import PH, PW, check_common, check_untouched, direct_select
from krita_scenario_run import skip_without_krita

from wire.client import EngineError, jpeg_image, png_image, raw_image

skip_without_krita()


def plate_alpha(result, w: int, h: int) -> np.ndarray:
    return np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)


def read_plate(out: Path) -> bytes:
    return (out / "plate.rgba").read_bytes()


def test_clean_plate_selection_matches_the_engine_with_the_hidden_plate_layer(krita_run):
    out, client = krita_run
    f = facts(out, "plate_selection")
    check_common(f)
    assert f["offered"] == {"layers": ["Clean plate (hidden)", "Background"], "layer": "Clean plate (hidden)",
                            "by_layer": True, "layer_enabled": True, "output": "selection", "note": "", "path": "",
                            "ok_enabled": True}, "the layer named plate, the first output"
    assert f["kept_unchanged"], "the image and plate layers are untouched"
    assert f["rect"] == [0, 0, PW, PH]
    source = (out / "plate_selection.source.bin").read_bytes()
    assert source == (out / "scene.rgba").read_bytes(), "the image sent is the active layer, as Select Subject's"
    expected = plate_alpha(direct_plate(client, source, read_plate(out), PW, PH), PW, PH)
    got = grey(out, "plate_selection", "alpha", (PH, PW))
    assert np.abs(got - expected).max() <= TOLERANCE
    plain = plate_alpha(direct_select(client, source, PW, PH), PW, PH)
    assert np.abs(got - plain).mean() > 20, "the plate changed the answer: it is not plain Select Subject"
    assert f["run"]["message"].startswith("subject selected with the clean plate (")


def test_clean_plate_live_edges_rewrite_the_result(krita_run):
    out, client = krita_run
    f = facts(out, "plate_selection")
    assert f["live"]["ok"] is True, f["live"]["message"]
    assert f["live_undo_steps"] == 1
    source = (out / "plate_selection.source.bin").read_bytes()
    expected = plate_alpha(direct_plate(client, source, read_plate(out), PW, PH, edges={"feather": 3.0}), PW, PH)
    got = grey(out, "plate_selection", "live_alpha", (PH, PW))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert np.abs(got - grey(out, "plate_selection", "alpha", (PH, PW))).max() > 20


@pytest.mark.parametrize("name", ["plate_mask", "plate_layer"])
def test_clean_plate_mask_and_cut_out_layer_match_the_engine(krita_run, name):
    """The mask through the menu (output chosen in the dialog), the cut-out layer through the docker's button."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    assert f["kept_unchanged"]
    assert f["offered"]["layer"] == "Clean plate (hidden)"
    if name == "plate_mask":
        assert f["offered"]["output"] == "selection", "the first output offered"
        assert f["added"] == [["Softcut subject", "transparencymask", "subject"]]
    else:
        assert f["offered"]["output"] == "layer", "the docker's output is offered"
        assert [a[1] for a in f["added"]] == ["paintlayer", "transparencymask"]
    source = (out / f"{name}.source.bin").read_bytes()
    outputs = ("alpha", "foreground") if name == "plate_layer" else ("alpha",)
    result = direct_plate(client, source, read_plate(out), PW, PH, outputs=outputs)
    assert np.abs(grey(out, name, "alpha", (PH, PW)) - plate_alpha(result, PW, PH)).max() <= TOLERANCE
    if name == "plate_layer":
        bgra = grey(out, name, "layer", (PH, PW, 4))
        fg = np.frombuffer(result.buffers["foreground"], np.uint8).reshape(PH, PW, 3).astype(int)
        assert bgra[..., 3].min() == 255
        assert np.abs(bgra[..., [2, 1, 0]] - fg).max() <= TOLERANCE


def test_the_dialog_offers_the_layer_below_the_active_one_or_one_named_plate(krita_run):
    out, _ = krita_run
    f = facts(out, "plate_choice")
    assert f["below"]["active"] == "photo"
    assert f["below"]["offered"]["layers"] == ["sky", "ground", "Background"], "the other paint layers, top first"
    assert f["below"]["offered"]["layer"] == "ground", "just below the active layer"
    assert f["named"]["offered"]["layer"] == "Old PLATE shot", "a layer named plate (any case) comes first"
    for case in f.values():
        assert case["run"]["ok"] is None and not case["run"]["busy_after_trigger"], "cancelled: no request"
        assert case["unchanged"] and case["undo_steps_added"] == 0


def test_without_another_layer_the_dialog_offers_a_file(krita_run):
    out, _ = krita_run
    offered = facts(out, "plate_alone")["offered"]
    assert offered["layers"] == [] and not offered["layer_enabled"] and not offered["by_layer"]
    assert "no other paint layer" in offered["note"]
    assert offered["path"].endswith("plate_crop.png"), "the last plate file is remembered"


@pytest.mark.parametrize("name", ["plate_file_png", "plate_file_jpeg", "plate_file_bmp"])
def test_a_clean_plate_from_a_file(krita_run, name):
    """PNG (a part of the plate: another size) through the dialog; JPEG as it is; BMP decoded by Qt."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    assert f["kept_unchanged"]
    source = (out / f"{name}.source.bin").read_bytes()
    image = raw_image(PW, PH, "rgba8", source)
    plate = {"plate_file_png": lambda: png_image((out / "plate_crop.png").read_bytes(), name="plate"),
             "plate_file_jpeg": lambda: jpeg_image((out / "plate.jpg").read_bytes(), name="plate"),
             "plate_file_bmp": lambda: raw_image(PW, PH, "rgba8", read_plate(out), name="plate")}[name]()
    with client() as engine:
        expected = plate_alpha(engine.plate_matte(image, plate, refine=REFINE), PW, PH)
    assert np.abs(grey(out, name, "alpha", (PH, PW)) - expected).max() <= TOLERANCE
    if name == "plate_file_png":
        assert f["offered"]["layers"] == ["Background"]
        assert f["run"]["message"].startswith("subject selected with the clean plate")
    elif name == "plate_file_jpeg":
        assert [a[1] for a in f["added"]] == ["transparencymask"]


def test_an_offset_image_layer_is_sent_clipped_and_the_plate_layer_whole(krita_run):
    out, client = krita_run
    f = facts(out, "plate_offset")
    check_common(f)
    assert f["kept_unchanged"]
    assert f["rect"] == [0, 30, PW - 40, PH - 30]
    scene = np.frombuffer((out / "scene.rgba").read_bytes(), np.uint8).reshape(PH, PW, 4)
    source = (out / "plate_offset.source.bin").read_bytes()
    assert source == np.ascontiguousarray(scene[:PH - 30, 40:]).tobytes()
    with client() as engine:
        result = engine.plate_matte(raw_image(PW - 40, PH - 30, "rgba8", source),
                                    raw_image(PW, PH, "rgba8", read_plate(out), name="plate"), refine=REFINE)
    got = grey(out, "plate_offset", "alpha", (PH - 30, PW - 40))
    assert np.abs(got - plate_alpha(result, PW - 40, PH - 30)).max() <= TOLERANCE


def alignment_message(out: Path, client) -> str:
    """What the engine says of the other scene's plate, asked directly."""
    other = (out / "other.rgba").read_bytes()
    with pytest.raises(EngineError) as failed:
        direct_plate(client, (out / "scene.rgba").read_bytes(), other, PW, PH)
    assert failed.value.code == "alignment_failed"
    return failed.value.message.rstrip(". ")


@pytest.mark.parametrize("name, says", [
    ("plate_other_scene", None),
    ("plate_other_scene_file", None),
    ("plate_other_scene_menu", None),
    ("plate_no_engine", "Start it with `softcut serve`"),
    ("plate_none", "no clean plate was chosen"),
    ("plate_is_image", "'subject' is the image Softcut cuts the subject from"),
    ("plate_missing_file", "'no such plate.png' cannot be read"),
    ("plate_not_an_image", "'notes.txt' is not an image"),
])
def test_a_clean_plate_that_cannot_be_used_leaves_the_document_alone(krita_run, name, says):
    out, client = krita_run
    f = facts(out, name)
    check_untouched(f, says or alignment_message(out, client))
    assert f["run"]["ok"] is not True
    if name.startswith("plate_other_scene"):
        assert f["run"]["ok"] is False and f["stages"], "the engine was asked"
    elif name != "plate_no_engine":
        assert not f["run"]["busy_after_trigger"] and not f["stages"], "said before any request"
    if name == "plate_other_scene_menu":
        assert f["offered"]["layer"] == "other scene"


