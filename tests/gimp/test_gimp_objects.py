"""Object Selection in real GIMP (tests/gimp/gimp_object_scenarios.py, gimp_object_refusals.py) against a
real engine: Object (a rectangular selection's bounds as the box, a path's anchors as clicks), Add to
Subject and Subtract from Subject (the selection as a rough mask correcting the image's last Softcut
result) give the alpha that the shared flow (:func:`wire.editor.select_object`, what every Python
plug-in runs) gets from the same engine for the same pixels and prompts, within 1/255, in one undo step;
the image is named by its key and its pixels sent only when asked; a last result the engine no longer
holds goes as the matte GIMP kept; every refusal leaves the image as it was."""

from __future__ import annotations

import json

import numpy as np
import pytest
from editor_files import (
    OBJECT_CLICKS,
    REFINE,
    TOLERANCE,
    facts,
    grey,
)
from editor_objects import BOX, LEFT, RIGHT, source_of
from editor_requests import EARLIER_RESULT, IMAGE_KEY, LOG, action_requests, read_log
from gimp_checks import H, W, check_undo
from gimp_scenario_run import skip_without_gimp

from wire.client import raw_image
from wire.editor import (
    FAINT_ROUGH,
    NOTHING_ROUGH,
    MatteOptions,
    ObjectPrompts,
    select_object,
    select_subject,
)
from wire.protocol.messages import buffer_key

skip_without_gimp()

def shared_flow(client, flow) -> dict:
    """``flow(ask)`` (wire.editor's flows) on a direct connection to the engine GIMP used: its buffers as arrays."""
    with client() as engine:
        result = flow(lambda message: engine.request(message, timeout=600))
    return {k: np.frombuffer(v, np.uint8).astype(int) for k, v in result.buffers.items()}


def requests(out, name: str) -> list:
    return action_requests(read_log(out / LOG), facts(out, name)["requests"], "softcut-gimp")


def test_object_picks_what_the_box_and_the_named_path_mark(gimp_run):
    """The box is the rectangle's bounds; the clicks are the anchors of “Softcut points” (first stroke
    positive, second negative), not those of the selected path “Outline”."""
    out, client, _ = gimp_run
    f = facts(out, "object_box_points")
    check_undo(f)
    prompts = ObjectPrompts(box=BOX.box, points=OBJECT_CLICKS)
    source = source_of(out, "object_box_points")
    expected = shared_flow(client, lambda ask: select_object(ask, source, prompts, MatteOptions("selection", REFINE)))
    got = grey(out, "object_box_points", "selection", (H, W))
    assert np.abs(got - expected["alpha"].reshape(H, W)).max() <= TOLERANCE
    assert got[RIGHT].min() > 200 and got[LEFT].max() < 30, "the right disc: the object the prompts mark"
    # the matte kept for corrections: a channel of an 8-bit perceptual image stores Y' u8 (within 1/255 of Y u8)
    assert np.abs(grey(out, "object_box_points", "channel", (H, W)) - got).max() <= TOLERANCE
    assert f["channel_visible"] is False
    record = f["record"]
    assert (record["output"], record["merged"], record["rect"]) == ("selection", False, [0, 0, W, H])
    picked = json.loads((out / "add_to_subject.picked.bin").read_text())
    assert picked == ["photo"], "after Object into the selection the layer is still picked, not the new channel"


def test_object_names_the_image_by_its_key_and_sends_its_pixels_when_asked(gimp_run):
    out, _, _ = gimp_run
    asked = read_log(out / LOG)
    start, end = facts(out, "object_box_points")["requests"]
    sent = [e["message"] for e in asked[start:end] if e["from"] == "client" and e["message"]["type"] == "select_object"]
    answers = [e["message"] for e in asked[start:end] if e["from"] == "engine" and e["message"]["type"] == "error"]
    source = (out / "object_box_points.source.bin").read_bytes()
    assert sent[0]["image"] == buffer_key(raw_image(W, H, "rgba8", source)) and "buffers" not in sent[0]
    assert answers[0]["code"] == "not_found" and answers[0]["message"].startswith("image ")
    assert "image" not in sent[1] and [b["name"] for b in sent[1]["buffers"]] == ["image"]


def test_object_with_the_selected_path_alone_into_a_mask(gimp_run):
    """No selection: the selected path's anchors (it has another name) are the clicks; the result is a new mask."""
    out, client, _ = gimp_run
    f = facts(out, "object_selected_path")
    check_undo(f)
    assert f.get("mask") and not f["new_layers"]
    source = source_of(out, "object_selected_path")
    expected = shared_flow(client, lambda ask: select_object(ask, source, ObjectPrompts(points=OBJECT_CLICKS),
                                                             MatteOptions("mask", REFINE)))
    got = grey(out, "object_selected_path", "mask", (H, W))
    assert np.abs(got - expected["alpha"].reshape(H, W)).max() <= TOLERANCE
    assert got[RIGHT].mean() > 200 and got[LEFT].max() < 30
    assert requests(out, "object_selected_path")[0]["image"] == IMAGE_KEY, "the engine held the image: no pixels"


def test_object_through_its_dialog(gimp_run):
    out, _, _ = gimp_run
    f = facts(out, "object_dialog")
    check_undo(f)
    assert "Geometry:" in (out / "dialog-object_dialog.txt").read_text(), "the dialog window was shown"


def _first(kind: str, source, output: str):
    """The earlier action whose result the correction corrects: Object with the box, or Select Subject."""
    if kind == "object":
        return lambda ask: select_object(ask, source, BOX, MatteOptions(output, REFINE))
    return lambda ask: select_subject(ask, source, MatteOptions(output, REFINE))


@pytest.mark.parametrize("name, first, mode, output", [
    ("add_to_subject", "object", "add", "selection"),
    ("subtract_from_subject", "subject", "subtract", "selection"),
    ("add_into_mask", "object", "add", "mask"),
    ("add_into_layer", "object", "add", "layer"),
])
def test_a_correction_gives_the_shared_flows_alpha_in_one_undo_step(gimp_run, name, first, mode, output):
    """The rough selection corrects the last result (Object's or Select Subject's, made just before)
    by its id; a mask and a cut-out layer are rewritten in place (Add with the cut-out layer picked
    reads the layer it was cut from)."""
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    source = source_of(out, name)
    rough = (out / f"{name}.guide.bin").read_bytes()

    def flow(ask):
        earlier = _first(first, source, output)(ask)
        return select_object(ask, source, ObjectPrompts(rough=rough), MatteOptions(output, REFINE), mode=mode,
                             previous=earlier.result_id)

    expected = shared_flow(client, flow)
    got = grey(out, name, {"selection": "selection", "mask": "mask", "layer": "cutout_mask"}[output], (H, W))
    assert np.abs(got - expected["alpha"].reshape(H, W)).max() <= TOLERANCE
    assert got[RIGHT].min() > 200 if mode == "add" else got[RIGHT].max() < 30
    assert got[LEFT].mean() > 200, "the left disc: added, or kept"
    assert not f["new_layers"] and f["record"]["output"] == output
    if output == "layer":
        assert f["cutouts"] == 1, "the cut-out layer was corrected, not doubled"
        picked = json.loads((out / f"{name}.picked.bin").read_text())
        assert picked == ["Softcut cut-out mask"], "Add ran with the cut-out's mask (so the cut-out) picked"
        # where the mask shows them (the engine's alpha may differ by a rounding from run to run, and where it
        # is near 0 the colours cleaned of the background, hidden anyway, follow it)
        shown = expected["alpha"].reshape(H, W) >= 128
        colours = grey(out, name, "cutout", (H, W, 4))[..., :3]
        assert np.abs(colours - expected["foreground"].reshape(H, W, 3))[shown].max() <= TOLERANCE


def test_a_result_the_engine_lost_goes_as_the_matte_gimp_kept(gimp_run):
    """The last result came from another engine: the id, then (not_found) the matte channel's pixels."""
    out, client, _ = gimp_run
    f = facts(out, "add_previous_lost")
    check_undo(f)
    sent = requests(out, "add_previous_lost")
    assert [m.get("previous") for m in sent] == [EARLIER_RESULT, None]
    assert [b[0] for b in sent[1]["buffers"]] == ["mask", "previous"] and sent[1]["image"] == IMAGE_KEY
    previous = (out / "add_previous_lost.previous.bin").read_bytes()
    assert np.frombuffer(previous, np.uint8).reshape(H, W)[RIGHT].min() > 200, "Object's matte, kept"
    with client() as engine:
        answer = engine.select_object(raw_image(W, H, "rgba8", (out / "add_previous_lost.source.bin").read_bytes()),
                                      mask=raw_image(W, H, "grey8", (out / "add_previous_lost.guide.bin").read_bytes(),
                                                     name="mask"),
                                      mode="add", previous=raw_image(W, H, "grey8", previous, name="previous"),
                                      refine=REFINE, timeout=600)
    got = grey(out, "add_previous_lost", "selection", (H, W))
    assert np.abs(got - np.frombuffer(answer.buffers["alpha"], np.uint8).reshape(H, W)).max() <= TOLERANCE
    assert got[LEFT].mean() > 200 and got[RIGHT].min() > 200


@pytest.mark.parametrize("name, says", [
    ("object_nothing_marked", "nothing is selected over the layer and no path marks the object"),
    ("object_too_many_clicks", "make 65 clicks on the layer; at most 64 can be sent"),
    ("object_no_engine", "Start it with `softcut serve`"),
    ("add_no_previous", "there is no earlier Softcut result on “photo” to correct"),
    ("add_nothing_selected", NOTHING_ROUGH),
    ("add_faint_selection", FAINT_ROUGH),
    ("add_other_layer", "there is no earlier Softcut result on “other” to correct"),
    ("add_previous_gone", "the engine no longer holds the last Softcut result, and the channel “Softcut matte”"),
])
def test_a_refused_object_selection_leaves_the_image_alone(gimp_run, name, says):
    """Each refusal is said before anything is sent (but the last: the engine's not_found comes first)."""
    out, _, _ = gimp_run
    f = facts(out, name)
    assert f["run"]["ok"] is False and f["run"]["status"] == "execution-error"
    assert says in f["run"]["message"] and "the image was not changed" in f["run"]["message"]
    assert not f["changed"] and not f["new_layers"]
    assert len(requests(out, name)) == (1 if name == "add_previous_gone" else 0)
