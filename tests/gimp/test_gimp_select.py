"""The GIMP 3 plug-in's Select Subject, Remove Background, Cut Out and Refine Selection in real GIMP
(tests/gimp/gimp_scenario_run.py) against a real engine: every result read back from GIMP equals what
the engine returns when asked directly for the same pixels, whatever the image's precision, mode and
layers (offset, merged, several picked); the model and edge arguments reach the engine."""

from __future__ import annotations

import numpy as np
import pytest
from editor_files import (
    CHOSEN_MODEL,
    SMALL,
    TOLERANCE,
    direct_model_select,
    facts,
    grey,
    opaque_rgba8,
)
from gimp_checks import H, W, canvas_alpha, check_undo, direct_refine, direct_select
from gimp_scenario_run import skip_without_gimp
from sample_images import red_disc_image

skip_without_gimp()


SELECTIONS = ["rgb8_selection", "rgb16_selection", "f32_selection", "grey_selection", "indexed_selection",
              "offset_selection"]


@pytest.mark.parametrize("name", SELECTIONS)
def test_select_subject_gives_the_engines_matte_as_the_selection(gimp_run, name):
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    assert len(source) == w * h * 4
    expected = direct_select(client, source, w, h)["alpha"]
    got = grey(out, name, "selection", (H, W))
    assert np.abs(got - canvas_alpha(f, expected)).max() <= TOLERANCE  # nothing selected outside the layer
    if name != "grey_selection":  # the test model finds reddish subjects: none in grey
        assert expected.min() < 30 and expected.max() > 225, "a real subject, not a blank matte"
        assert ((got > 10) & (got < 245)).any(), "soft values survive"


def test_the_model_argument_reaches_the_engine(gimp_run):
    """``model`` (the dialog's Model list; a script passes the name) is the model that runs: the selection is
    the chosen model's matte (the ground), not the default's (the disc)."""
    out, client, _ = gimp_run
    with client() as engine:  # before this test's own requests: only GIMP's can have loaded it
        assert {m["name"] for m in engine.models() if m["loaded"]} == {"tiny", CHOSEN_MODEL}
    f = facts(out, "model_selection")
    check_undo(f)
    x, y, w, h = f["rect"]
    source = (out / "model_selection.source.bin").read_bytes()
    chosen = direct_model_select(client, source, w, h, CHOSEN_MODEL)
    default = direct_model_select(client, source, w, h, None)
    got = grey(out, "model_selection", "selection", (H, W))
    assert np.abs(got - canvas_alpha(f, chosen)).max() <= TOLERANCE
    assert np.abs(chosen - default).mean() > 100  # the two models disagree: the choice is what decided


def test_the_engine_gets_the_pixels_gimp_holds(gimp_run):
    """GIMP hands out the layer's pixels as put in: 8-bit exactly, 16-bit and float linear within 1/255.

    ``NAME.source.bin`` is read by the driver the way the plug-in reads; that the plug-in
    sent these very pixels is what the matte comparisons with the engine show.
    """
    out, _, _ = gimp_run
    image, _ = red_disc_image(H, W)
    original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(H, W, 4).astype(int)
    for name, tolerance in (("rgb8_selection", 0), ("rgb16_selection", 1), ("f32_selection", 1)):
        sent = grey(out, name, "source", (H, W, 4))
        assert np.abs(sent - original).max() <= tolerance, name
    g = grey(out, "grey_selection", "source", (H, W, 4))
    assert np.array_equal(g[..., 0], g[..., 1]) and np.array_equal(g[..., 1], g[..., 2])
    indexed = grey(out, "indexed_selection", "source", (H, W, 4))
    assert np.abs(indexed - original).mean() < 4, "an indexed image is read through its palette"


def test_offset_layer_is_clipped_to_the_canvas(gimp_run):
    out, _, _ = gimp_run
    f = facts(out, "offset_selection")
    assert f["rect"] == [0, H - SMALL[1] // 2, SMALL[0] - SMALL[0] // 4, SMALL[1] // 2]
    image, _ = red_disc_image(SMALL[1], SMALL[0])
    original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(SMALL[1], SMALL[0], 4)
    sent = grey(out, "offset_selection", "source", (SMALL[1] // 2, SMALL[0] - SMALL[0] // 4, 4))
    assert np.array_equal(sent, original[: SMALL[1] // 2, SMALL[0] // 4:])


def test_sample_merged_reads_the_visible_image(gimp_run):
    out, client, _ = gimp_run
    f = facts(out, "merged_selection")
    check_undo(f)
    merged = (out / "merged_selection.source.bin").read_bytes()  # GIMP's flattened copy
    expected = direct_select(client, merged, W, H)["alpha"].reshape(H, W).astype(int)
    got = grey(out, "merged_selection", "selection", (H, W))
    assert np.abs(got - expected).max() <= TOLERANCE
    disc, _ = red_disc_image(H, W)
    layer_only = direct_select(client, opaque_rgba8(disc), W, H)["alpha"].reshape(H, W).astype(int)
    assert np.abs(got - layer_only).max() > 20, "the veil changed the result: the merged image was read"


def test_sample_merged_with_several_layers_picked_puts_the_cut_out_on_top(gimp_run):
    out, client, _ = gimp_run
    f = facts(out, "two_layers_merged_cutout")
    check_undo(f)
    assert [(layer["name"], layer["offsets"], layer["size"]) for layer in f["new_layers"]] == [
        ("Softcut cut-out", [0, 0], [W, H])]
    assert f["top_layer"] == "Softcut cut-out"
    merged = (out / "merged_selection.source.bin").read_bytes()  # the same two layers, flattened by GIMP
    expected = direct_select(client, merged, W, H, outputs=("alpha", "foreground"))
    assert np.abs(grey(out, "two_layers_merged_cutout", "layer_mask", (H, W))
                  - expected["alpha"].reshape(H, W)).max() <= TOLERANCE


def test_edge_controls_are_applied(gimp_run):
    out, client, _ = gimp_run
    f = facts(out, "edges_selection")
    check_undo(f)
    source = (out / "edges_selection.source.bin").read_bytes()
    edges = {"feather": 3.0, "contrast": 20.0}
    expected = direct_select(client, source, W, H, edges=edges)["alpha"].reshape(H, W).astype(int)
    got = grey(out, "edges_selection", "selection", (H, W))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert np.abs(got - grey(out, "rgb8_selection", "selection", (H, W))).max() > 20


@pytest.mark.parametrize("name", ["rgb8_mask", "offset_mask", "rgb16_mask", "selection_as_mask", "no_alpha_mask"])
def test_remove_background_adds_the_matte_as_a_layer_mask(gimp_run, name):
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    assert f.get("mask") and not f["new_layers"]
    x, y, w, h = f["rect"]
    expected = direct_select(client, (out / f"{name}.source.bin").read_bytes(), w, h)["alpha"]
    if name == "offset_mask":  # the mask covers the whole layer; outside the canvas it hides
        mask = grey(out, name, "mask", (SMALL[1], SMALL[0]))
        inside = mask[: SMALL[1] // 2, SMALL[0] // 4:]
        assert np.abs(inside - expected.reshape(h, w)).max() <= TOLERANCE
        outside = mask.copy()
        outside[: SMALL[1] // 2, SMALL[0] // 4:] = 0
        assert outside.max() == 0
    else:
        assert np.abs(grey(out, name, "mask", (h, w)) - expected.reshape(h, w)).max() <= TOLERANCE


@pytest.mark.parametrize("name", ["rgb8_layer", "f32_layer", "indexed_layer"])
def test_cut_out_adds_a_layer_with_clean_colours_and_the_matte_as_its_mask(gimp_run, name):
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    assert [(layer["name"], layer["has_mask"]) for layer in f["new_layers"]] == [("Softcut cut-out", True)]
    x, y, w, h = f["rect"]
    assert f["new_layers"][0]["offsets"] == [x, y] and f["new_layers"][0]["size"] == [w, h]
    result = direct_select(client, (out / f"{name}.source.bin").read_bytes(), w, h, outputs=("alpha", "foreground"))
    assert np.abs(grey(out, name, "layer_mask", (h, w)) - result["alpha"].reshape(h, w)).max() <= TOLERANCE
    layer = grey(out, name, "layer", (h, w, 4))
    assert layer[..., 3].min() == 255, "the layer is opaque: its mask holds the alpha"
    tolerance = TOLERANCE if name != "f32_layer" else 1  # 8-bit sRGB → linear float → 8-bit sRGB
    assert np.abs(layer[..., :3] - result["foreground"].reshape(h, w, 3)).max() <= tolerance
    if name == "indexed_layer":  # a palette cannot hold the cleaned colours: RGB now, indexed after undo
        assert f["base"] == 2 and f["base_after"] == 0


@pytest.mark.parametrize("name, edges", [("refine", None), ("refine_edges", {"shift_edge": 30.0})])
def test_refine_selection_turns_a_rough_selection_into_a_soft_one(gimp_run, name, edges):
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    source = (out / f"{name}.source.bin").read_bytes()
    guide = (out / f"{name}.guide.bin").read_bytes()
    assert 0 < np.frombuffer(guide, np.uint8).mean() < 255
    expected = direct_refine(client, source, guide, W, H, edges)
    got = grey(out, name, "selection", (H, W))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert ((got > 10) & (got < 245)).any(), "the refined selection is soft"
    assert np.abs(got - np.frombuffer(guide, np.uint8).reshape(H, W)).max() > 100, "it is not the rough one"

