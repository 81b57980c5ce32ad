"""Select Subject with Clean Plate in real GIMP (tests/gimp/gimp_scenario_run.py): the plate as a layer
(of the image or another one), a file, or the dialog's guess; every result equals the engine's
plate_matte answer for the same pixels and leaves the photo and plate layers alone; a plate of another
scene gives the engine's alignment message."""

from __future__ import annotations

import numpy as np
import pytest
from editor_files import PLATE_SIZE, TOLERANCE, direct_plate, facts, grey
from gimp_checks import PH, PW, check_undo, direct_select
from gimp_scenario_run import skip_without_gimp

from wire.client import EngineError

skip_without_gimp()


def plate_answer(out, client, name: str, outputs=("alpha",)) -> dict:
    """The engine's direct plate_matte answer for what the scenario's photo layer holds and plate.rgba."""
    x, y, w, h = facts(out, name)["rect"]
    assert (w, h) == PLATE_SIZE
    result = direct_plate(client, (out / f"{name}.source.bin").read_bytes(), (out / "plate.rgba").read_bytes(),
                          w, h, outputs=outputs)
    answer = {k: np.frombuffer(v, np.uint8).reshape(h, w, -1).astype(int) for k, v in result.buffers.items()}
    answer["alpha"] = answer["alpha"][..., 0]
    return answer


@pytest.mark.parametrize("name", ["plate_selection", "plate_other_image", "plate_file_png", "plate_file_tiff",
                                  "plate_dialog_by_name", "plate_dialog_below"])
def test_select_subject_with_clean_plate_gives_the_engines_plate_matte_as_the_selection(gimp_run, name):
    """A plate layer of the image, a layer of another image (read whole, partly off that canvas),
    a PNG file and a TIFF file (each in place of a plate layer of another scene: the file wins),
    and the dialog's guesses (a layer named like a plate; the layer below the photo)."""
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    assert f["rect"] == [0, 0, PW, PH] and not f["new_layers"]
    expected = plate_answer(out, client, name)["alpha"]
    got = grey(out, name, "selection", (PH, PW))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert expected.min() < 30 and expected.max() > 225, "a real subject, not a blank matte"
    assert ((got > 10) & (got < 245)).any(), "soft values survive"
    plain = direct_select(client, (out / f"{name}.source.bin").read_bytes(), PW, PH)["alpha"].reshape(PH, PW)
    assert np.abs(got - plain).max() > 100, "the plate changed the matte: it is not plain Select Subject's"
    if name.startswith("plate_dialog"):
        assert "Geometry:" in (out / f"dialog-{name}.txt").read_text(), "the dialog window was shown"


def check_layers_untouched(out, name: str) -> None:
    """The photo layer and the plate layer hold what they held before the run (after undo and redo too)."""
    assert (out / f"{name}.photo_after.bin").read_bytes() == (out / "scene.rgba").read_bytes()
    assert (out / f"{name}.plate_after.bin").read_bytes() == (out / "plate.rgba").read_bytes()


def test_select_subject_with_clean_plate_leaves_the_photo_and_the_plate_layer_alone(gimp_run):
    out, _, _ = gimp_run
    check_undo(facts(out, "plate_selection"))  # one Ctrl+Z gives back the whole image, plate layer included
    for name in ("plate_selection", "plate_mask", "plate_layer"):
        check_layers_untouched(out, name)


def test_select_subject_with_clean_plate_into_a_layer_mask(gimp_run):
    out, client, _ = gimp_run
    f = facts(out, "plate_mask")
    check_undo(f)
    assert f.get("mask") and not f["new_layers"]
    expected = plate_answer(out, client, "plate_mask")["alpha"]
    assert np.abs(grey(out, "plate_mask", "mask", (PH, PW)) - expected).max() <= TOLERANCE
    assert np.array_equal(grey(out, "plate_mask", "selection", (PH, PW)), grey(out, "plate_mask", "guide", (PH, PW))), \
        "the selection is left as it was"


def test_select_subject_with_clean_plate_into_a_new_layer(gimp_run):
    out, client, _ = gimp_run
    f = facts(out, "plate_layer")
    check_undo(f)
    assert [(layer["name"], layer["has_mask"], layer["offsets"], layer["size"]) for layer in f["new_layers"]] == [
        ("Softcut cut-out", True, [0, 0], [PW, PH])]
    assert f["top_layer"] == "Softcut cut-out"
    expected = plate_answer(out, client, "plate_layer", outputs=("alpha", "foreground"))
    assert np.abs(grey(out, "plate_layer", "layer_mask", (PH, PW)) - expected["alpha"]).max() <= TOLERANCE
    layer = grey(out, "plate_layer", "layer", (PH, PW, 4))
    assert layer[..., 3].min() == 255, "the layer is opaque: its mask holds the alpha"
    assert np.abs(layer[..., :3] - expected["foreground"]).max() <= TOLERANCE


@pytest.mark.parametrize("name", ["plate_other_scene_layer", "plate_other_scene_file"])
def test_a_plate_of_another_scene_gives_the_engines_alignment_message_and_leaves_the_image_alone(gimp_run, name):
    out, client, _ = gimp_run
    f = facts(out, name)
    assert f["run"]["ok"] is False and f["run"]["status"] == "execution-error"
    assert not f["changed"] and not f["new_layers"]
    with pytest.raises(EngineError) as refused:  # the engine's own answer for this plate
        direct_plate(client, (out / f"{name}.source.bin").read_bytes(), (out / "other.rgba").read_bytes(), PW, PH)
    assert refused.value.code == "alignment_failed"
    assert f"Softcut: {refused.value.message.rstrip('. ')}; the image was not changed" in f["run"]["message"]


