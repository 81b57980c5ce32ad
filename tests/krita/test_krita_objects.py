"""Object Selection in real Krita (tests/krita/krita_object_scenarios.py) against a real engine: Object (a
rectangular selection's bounds as the box, the shapes of the vector layers "Softcut points" and "Softcut
negative points" as clicks), Add to Subject and Subtract from Subject (the selection as a rough mask
correcting the document's last Softcut result) give the alpha that the shared flow
(:func:`wire.editor.select_object`, what every Python plug-in runs) gets from the same engine for the same
pixels and prompts, within 1/255, in one undo step that undo takes back; the image is named by its key
and its pixels sent only when asked; a last result the engine no longer holds goes as the matte Krita
kept; every refusal leaves the document and its history as they were, with nothing sent."""

from __future__ import annotations


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
from editor_requests import LOG, read_log
from krita_checks import H, W, check_common, check_untouched
from krita_scenario_run import OTHER_LOG, skip_without_krita

from wire.client import raw_image
from wire.editor import (
    FAINT_ROUGH,
    NOTHING_ROUGH,
    MatteOptions,
    ObjectPrompts,
    no_previous,
    select_object,
    select_subject,
)
from wire.protocol.messages import buffer_key

skip_without_krita()

def shared_flow(client, flow) -> np.ndarray:
    """``flow(ask)`` (wire.editor's flows) on a direct connection to the engine Krita used: its alpha, (H, W) int."""
    with client() as engine:
        result = flow(lambda message: engine.request(message, timeout=600))
    return np.frombuffer(result.buffers["alpha"], np.uint8).astype(int).reshape(H, W)


def sent(out, log: str, name: str) -> tuple[list, list]:
    """The select_object requests Krita sent during ``name`` (recorded in ``log``) and the engine's errors."""
    entries = read_log(out / log)
    start, end = facts(out, name)["requests"] if log == LOG else (0, len(entries))
    window = [e["message"] for e in entries[start:end]]
    requests = [m for m, e in zip(window, entries[start:end]) if e["from"] == "client" and m["type"] == "select_object"]
    errors = [m for m, e in zip(window, entries[start:end]) if e["from"] == "engine" and m["type"] == "error"]
    return requests, errors


def test_object_picks_what_the_box_and_the_points_layers_mark(krita_run):
    """The box is the rectangle's bounds; the clicks are the circles' centres, positive on "Softcut points"
    and negative on "Softcut negative points"."""
    out, client = krita_run
    f = facts(out, "object_box_points")
    check_common(f)
    assert f["marks"] == [list(c) for c in OBJECT_CLICKS]
    assert f["history"][f["undo_index_before"] + 1] in ("Deselect", "Select All")
    source = source_of(out, "object_box_points")
    prompts = ObjectPrompts(box=BOX.box, points=OBJECT_CLICKS)
    expected = shared_flow(client, lambda ask: select_object(ask, source, prompts, MatteOptions("selection", REFINE)))
    got = grey(out, "object_box_points", "alpha", (H, W))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert got[RIGHT].min() > 200 and got[LEFT].max() < 30, "the right disc: the object the prompts mark"
    assert np.abs(grey(out, "object_box_points", "kept", (H, W)) - got).max() == 0, "the matte kept is the one written"


def test_object_names_the_image_by_its_key_and_sends_its_pixels_when_asked(krita_run):
    out, _ = krita_run
    requests, errors = sent(out, LOG, "object_box_points")
    source = (out / "object_box_points.source.bin").read_bytes()
    assert requests[0]["image"] == buffer_key(raw_image(W, H, "rgba8", source)) and "buffers" not in requests[0]
    assert errors[0]["code"] == "not_found" and errors[0]["message"].startswith("image ")
    assert "image" not in requests[1] and [b["name"] for b in requests[1]["buffers"]] == ["image"]
    assert len(requests) == 2


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
def test_a_correction_gives_the_shared_flows_alpha_in_one_undo_step(krita_run, name, first, mode, output):
    """The rough selection corrects the last result (Object's or Select Subject's, made just before) by its id."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    source = source_of(out, name)
    rough = (out / f"{name}.guide.bin").read_bytes()

    def flow(ask):
        earlier = _first(first, source, output)(ask)
        return select_object(ask, source, ObjectPrompts(rough=rough), MatteOptions(output, REFINE), mode=mode,
                             previous=earlier.result_id)

    expected = shared_flow(client, flow)
    got = grey(out, name, "alpha", (H, W))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert got[RIGHT].min() > 200 if mode == "add" else got[RIGHT].max() < 30
    assert got[LEFT].min() > 200, "added to Object's right disc; left in Select Subject's two discs"
    assert np.abs(grey(out, name, "kept", (H, W)) - got).max() == 0, "the matte written, kept for the next correction"


def test_a_correction_into_a_mask_replaces_the_earlier_mask(krita_run):
    """One mask on the layer afterwards (Krita's convert step: undo gives the earlier one back, as the snapshot shows)."""
    out, _ = krita_run
    f = facts(out, "add_into_mask")
    assert f["masks"] == ["Softcut subject"]
    assert f["history"][f["undo_index_before"] + 1] == "Convert to a Selection Mask"


def test_a_correction_into_a_new_layer_goes_above_the_earlier_cut_out(krita_run):
    out, _ = krita_run
    f = facts(out, "add_into_layer")
    assert len(f["cut_outs"]) == 2 and f["new_layer"] == f["cut_outs"][1], "the new cut-out on the earlier one"
    assert f["history"][f["undo_index_before"] + 1] == "Add Layer"


def test_the_corrections_name_the_held_image_and_result(krita_run):
    """After the earlier action the engine holds the image and the result: the key and the id go, no pixels."""
    out, _ = krita_run
    for name in ("add_to_subject", "subtract_from_subject", "add_into_mask", "add_into_layer"):
        requests, errors = sent(out, LOG, name)
        assert len(requests) == 1 and not errors, name
        assert isinstance(requests[0]["previous"], str) and isinstance(requests[0]["image"], str)
        assert [b["name"] for b in requests[0]["buffers"]] == ["mask"]


def test_a_last_result_the_engine_lost_goes_as_the_matte_krita_kept(krita_run):
    """Corrected on another engine: its key, then its pixels with the result id, then the matte as pixels."""
    out, client = krita_run
    f = facts(out, "add_previous_lost")
    check_common(f)
    requests, errors = sent(out, OTHER_LOG, "add_previous_lost")
    assert [e["message"].split(" ")[0] for e in errors] == ["image", "previous:"]
    assert [sorted(b["name"] for b in r.get("buffers", [])) for r in requests] == [
        ["mask"], ["image", "mask"], ["image", "mask", "previous"]]
    source = source_of(out, "add_previous_lost")
    rough = (out / "add_previous_lost.guide.bin").read_bytes()

    def flow(ask):
        earlier = bytes(_first("object", source, "selection")(ask).buffers["alpha"])
        return select_object(ask, source, ObjectPrompts(rough=rough), MatteOptions("selection", REFINE), mode="add",
                             previous="0" * 32, previous_coverage=lambda: earlier)

    assert np.abs(grey(out, "add_previous_lost", "alpha", (H, W)) - shared_flow(client, flow)).max() <= TOLERANCE


@pytest.mark.parametrize("name, says", [
    ("object_nothing_marked", "no shape of a vector layer 'Softcut points' marks an object"),
    ("object_box_too_small", "smaller than 2 × 2 pixels"),
    ("add_no_previous", no_previous("'photo'")),
    ("add_nothing_selected", NOTHING_ROUGH),
    ("add_faint_selection", FAINT_ROUGH),
    ("add_other_source", no_previous("the merged image")),
    ("add_no_engine", "Start it with `softcut serve`"),
    ("object_no_engine", "Start it with `softcut serve`"),
])
def test_a_refusal_sends_nothing_and_leaves_the_document_alone(krita_run, name, says):
    out, _ = krita_run
    f = facts(out, name)
    assert f["run"]["ok"] is not True
    check_untouched(f, says)
    start, end = f["requests"]
    assert start == end, "nothing reached the engine"
