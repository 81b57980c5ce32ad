"""The Krita plug-in's Select Subject, Remove Background, Cut Out and Refine Selection in real Krita
(tests/krita/krita_scenario_run.py) against a real engine: every result read back from Krita equals
what the engine returns when asked directly for the same pixels, whatever the document's colour
model, depth and layer placement; the docker's model choice and edge controls reach the engine."""

from __future__ import annotations

import numpy as np
import pytest
from editor_files import (
    CHOSEN_MODEL,
    REFINE,
    SMALL,
    TOLERANCE,
    direct_model_select,
    facts,
    grey,
    opaque_rgba8,
)
from krita_checks import H, W, check_common, check_untouched, direct_select
from krita_scenario_run import skip_without_krita
from sample_images import red_disc_image

from wire.client import raw_image

skip_without_krita()


SELECTIONS = ["rgba8_selection", "rgba_u16_selection", "rgba_f32_selection", "graya_u8_selection",
              "offset_selection", "merged_selection"]


@pytest.mark.parametrize("name", SELECTIONS + ["rgba8_mask", "offset_mask"])
def test_action_matches_the_engine(krita_run, name):
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    assert len(source) == w * h * 4
    expected = np.frombuffer(direct_select(client, source, w, h).buffers["alpha"], np.uint8).reshape(h, w)
    got = grey(out, name, "alpha", (h, w))
    assert np.abs(got - expected.astype(int)).max() <= TOLERANCE
    if f.get("model") != "GRAYA":  # the test model finds reddish subjects: none in grey
        assert expected.min() < 30 and expected.max() > 225  # a real subject, not a blank matte


def test_the_model_picked_in_the_docker_reaches_the_engine(krita_run):
    """The docker lists the engine's models (the default first; absent ones greyed); the one picked there
    runs: the selection is the chosen model's matte (the ground), not the default's (the disc)."""
    out, client = krita_run
    f = facts(out, "model_choice")
    check_common(f)
    offered = dict(map(tuple, f["offered"]))
    assert f["offered"][0] == ["tiny", True] and offered[CHOSEN_MODEL] is True
    assert offered["birefnet-general"] is False  # absent: shown, not selectable
    assert f["requested"] == CHOSEN_MODEL
    with client() as engine:  # before this test's own requests: only Krita's can have loaded it
        assert {m["name"] for m in engine.models() if m["loaded"]} == {"tiny", CHOSEN_MODEL}
    x, y, w, h = f["rect"]
    source = (out / "model_choice.source.bin").read_bytes()
    got = grey(out, "model_choice", "alpha", (h, w))
    chosen = direct_model_select(client, source, w, h, CHOSEN_MODEL)
    default = direct_model_select(client, source, w, h, None)
    assert np.abs(got - chosen).max() <= TOLERANCE
    assert np.abs(chosen - default).mean() > 100  # the two models disagree: the choice is what decided


@pytest.mark.parametrize("name", ["rgba8_selection", "offset_selection"])
def test_the_engine_gets_the_pixels_krita_holds(krita_run, name):
    """8-bit layers reach the engine exactly; an offset layer is clipped to the canvas."""
    out, _ = krita_run
    f = facts(out, name)
    x, y, w, h = f["rect"]
    sent = np.frombuffer((out / f"{name}.source.bin").read_bytes(), np.uint8).reshape(h, w, 4)
    if name == "offset_selection":
        assert [x, y, w, h] == [0, H - SMALL[1] // 2, SMALL[0] - SMALL[0] // 4, SMALL[1] // 2]
        image, _ = red_disc_image(SMALL[1], SMALL[0])
        original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(SMALL[1], SMALL[0], 4)
        original = original[: SMALL[1] // 2, SMALL[0] // 4:]
    else:
        image, _ = red_disc_image(H, W)
        original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(H, W, 4)
    assert np.array_equal(sent, original)


@pytest.mark.parametrize("name", ["rgba_u16_selection", "rgba_f32_selection"])
def test_linear_16_bit_and_float_documents_are_converted_to_srgb(krita_run, name):
    out, _ = krita_run
    assert "g10" in facts(out, name)["profile"]  # Krita's default for these depths is linear light
    image, _ = red_disc_image(H, W)
    original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(H, W, 4).astype(int)
    sent = np.frombuffer((out / f"{name}.source.bin").read_bytes(), np.uint8).reshape(H, W, 4)
    assert np.abs(sent.astype(int) - original).max() <= 1


def test_grey_documents_are_sent_as_grey(krita_run):
    out, _ = krita_run
    g = np.frombuffer((out / "graya_u8_selection.source.bin").read_bytes(), np.uint8).reshape(H, W, 4)
    assert np.array_equal(g[..., 0], g[..., 1]) and np.array_equal(g[..., 1], g[..., 2])


def test_selection_outside_the_layer_is_empty(krita_run):
    out, _ = krita_run
    canvas = grey(out, "offset_selection", "canvas_selection", (H, W))
    x, y, w, h = facts(out, "offset_selection")["rect"]
    outside = canvas.copy()
    outside[y:y + h, x:x + w] = 0
    assert outside.max() == 0


@pytest.mark.parametrize("name", ["rgba8_layer", "rgba_u16_layer", "rgba_f32_layer"])
def test_cut_out_layer_holds_the_decontaminated_foreground_and_its_mask(krita_run, name):
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    assert [a[1] for a in f["added"]] == ["paintlayer", "transparencymask"]
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    result = direct_select(client, source, w, h, outputs=("alpha", "foreground"))
    alpha = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)
    assert np.abs(grey(out, name, "alpha", (h, w)) - alpha).max() <= TOLERANCE
    fg = np.frombuffer(result.buffers["foreground"], np.uint8).reshape(h, w, 3).astype(int)
    layer = (out / f"{name}.layer.bin").read_bytes()
    if f["depth"] == "U8":
        bgra = np.frombuffer(layer, np.uint8).reshape(h, w, 4).astype(int)
        rgb, a = bgra[..., [2, 1, 0]], bgra[..., 3]
    else:  # U16 (B, G, R, A) or F32 (R, G, B, A), in linear light: back to sRGB
        assert "g10" in f["profile"]
        if f["depth"] == "U16":
            rgba = np.frombuffer(layer, "<u2").reshape(h, w, 4)[..., [2, 1, 0, 3]].astype(float) / 65535
        else:
            rgba = np.frombuffer(layer, "<f4").reshape(h, w, 4).astype(float)
        lin = np.clip(rgba[..., :3], 0, 1)
        srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
        rgb, a = np.rint(srgb * 255).astype(int), np.rint(rgba[..., 3] * 255).astype(int)
    assert a.min() == 255, "the layer is opaque: its mask holds the alpha"
    tolerance = TOLERANCE if f["depth"] == "U8" else 2  # 8-bit sRGB → linear → 8-bit sRGB
    assert np.abs(rgb - fg).max() <= tolerance


@pytest.mark.parametrize("name, edges", [("rgba8_selection", {"feather": 3.0}), ("rgba8_mask", {"contrast": 50.0})])
def test_live_edge_sliders_rewrite_the_result_in_place(krita_run, name, edges):
    out, client = krita_run
    f = facts(out, name)
    assert f["live"]["ok"] is True, f["live"]["message"]
    assert f["live_undo_steps"] == 1, "live edits stay inside the action's one undo step"
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    expected = np.frombuffer(direct_select(client, source, w, h, edges=edges).buffers["alpha"], np.uint8)
    got = grey(out, name, "live_alpha", (h, w))
    assert np.abs(got - expected.reshape(h, w).astype(int)).max() <= TOLERANCE
    assert np.abs(got - grey(out, name, "alpha", (h, w))).max() > 20  # the sliders did change it


@pytest.mark.parametrize("name, edges", [("refine", None), ("refine_edges", {"shift_edge": 30.0})])
def test_refine_selection(krita_run, name, edges):
    """The menu's Refine Selection (no edge control: ``refine`` alone); with the docker's edge controls,
    ``refine`` then ``adjust_edges`` on its result, as GIMP and the Photoshop panel do."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    guide = (out / f"{name}.guide.bin").read_bytes()
    with client() as engine:
        result = engine.refine(raw_image(w, h, "rgba8", source), raw_image(w, h, "grey8", guide, name="guide"),
                               guide_kind="mask", mode=REFINE)
        plain = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)
        if edges:
            result = engine.adjust_edges(result.result_id, edges=edges)
    want = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)
    got = grey(out, name, "alpha", (H, W))[y:y + h, x:x + w]
    assert np.abs(got - want).max() <= TOLERANCE
    assert ((got > 0) & (got < 255)).any(), "the refined selection is soft"
    if edges:
        assert np.abs(got - plain).max() > 20, "the edge control changed the refined selection"


def test_refine_selection_of_a_blank_selection_is_refused_before_any_request(krita_run):
    out, _ = krita_run
    f = facts(out, "refine_nothing_selected")
    check_untouched(f, "draw a rough selection around the subject first")
    assert f["run"]["ok"] is not True and not f["run"]["busy_after_trigger"] and not f["stages"]


def test_select_subject_with_edge_controls(krita_run):
    """The docker's edge controls at Select Subject go with the request (as GIMP's procedure arguments do)."""
    out, client = krita_run
    f = facts(out, "edges_selection")
    check_common(f)
    x, y, w, h = f["rect"]
    source = (out / "edges_selection.source.bin").read_bytes()
    with client() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", source), refine=REFINE,
                                       edges={"feather": 3.0, "contrast": 20.0})
    want = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)
    got = grey(out, "edges_selection", "alpha", (h, w))
    assert np.abs(got - want).max() <= TOLERANCE
    assert np.abs(got - grey(out, "rgba8_selection", "alpha", (h, w))).max() > 20, "the edge controls changed it"

