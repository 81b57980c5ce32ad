"""The request comparison the editor suites run (tests/editor_requests.py), checked here on a real
engine: the relay records what the shared flows send, the table says the same, and a flow that
asks otherwise (Krita's Refine Selection before wire/editor: ``refine`` alone) fails the check.
That the GIMP and Krita suites each compare every action: the first test."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sample_images import red_disc_image
from tiny_models import build_tiny_model, write_sidecar
from editor_files import (
    ADD_ROUGH, OBJECT_BOX, OBJECT_CLICKS, REFINE, SIZE, SUBTRACT_ROUGH, object_discs, opaque, opaque_rgba8,
)
from editor_requests import (ACTIONS, GIMP_SCENARIOS, KRITA_SCENARIOS, RequestLog, action_requests, expected,
                             read_log)
from test_server import Engine
from wire.client import SoftcutClient, raw_image
from wire.editor import MatteOptions, ObjectPrompts, refine_selection, select_object, select_subject
from wire.protocol import messages

W, H = SIZE
NAME = "softcut-editor-test"


def test_the_gimp_and_krita_suites_each_compare_every_action():
    assert set(GIMP_SCENARIOS.values()) == set(ACTIONS) == set(KRITA_SCENARIOS.values())
    assert len(GIMP_SCENARIOS) == len(KRITA_SCENARIOS) == len(ACTIONS), "one scenario per action and editor"


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    """A real engine behind a :class:`RequestLog`; yields (log, run): ``run(flow)`` runs ``flow(ask)`` on a
    client through the relay and gives (its result, the normalized requests it made)."""
    tmp = tmp_path_factory.mktemp("editor-requests")
    model = build_tiny_model(tmp / "tiny.onnx")
    write_sidecar(model)
    engine = Engine(tmp, model)
    log = RequestLog(engine.port, tmp / "requests.jsonl")
    client = SoftcutClient(port=log.port, token=engine.token, name=NAME, timeout=300)

    def run(flow):
        start = len(read_log(log.path))
        result = flow(lambda message: client.request(message))
        return result, action_requests(read_log(log.path), [start, len(read_log(log.path))], NAME)

    try:
        with client:
            yield log, run
    finally:
        log.close()
        engine.stop()


SOURCE = SimpleNamespace(width=W, height=H, rgba=opaque_rgba8(red_disc_image(H, W)[0]))  # as a plug-in reads it
IMAGE = raw_image(W, H, "rgba8", SOURCE.rgba)
GUIDE = np.zeros((H, W), np.uint8)
GUIDE[H // 5:H - H // 5, W // 5:W - W // 5] = 255
ROUGH = GUIDE.tobytes()  # the rough selection's coverage (grey8)


@pytest.mark.parametrize("action, flow", [
    ("Select Subject into a new layer",
     lambda ask: select_subject(ask, SOURCE, MatteOptions("layer", REFINE, {"smooth": 0.0, "shift_edge": 0.0}))),
    ("Select Subject with edge controls",
     lambda ask: select_subject(ask, SOURCE, MatteOptions("selection", REFINE, {"feather": 3, "contrast": 20.0}))),
    ("Refine Selection", lambda ask: refine_selection(ask, SOURCE, ROUGH, MatteOptions("selection", REFINE))),
    ("Refine Selection with an edge control",
     lambda ask: refine_selection(ask, SOURCE, ROUGH, MatteOptions("selection", REFINE, {"shift-edge": 30.0}))),
])
def test_the_relay_records_exactly_what_a_shared_flow_asks(relay, action, flow):
    _log, run = relay
    result, asked = run(flow)
    assert result.buffers, "the engine answered"
    assert asked == expected(action)


def test_refine_then_adjust_edges_is_refine_with_the_edges_applied(relay):
    _log, run = relay
    refined, asked = run(lambda ask: refine_selection(ask, SOURCE, ROUGH,
                                                      MatteOptions("selection", REFINE, {"shift_edge": 30.0})))
    assert [r["type"] for r in asked] == ["refine", "adjust_edges"] and asked[1]["result"] == "#0"
    plain, _ = run(lambda ask: refine_selection(ask, SOURCE, ROUGH, MatteOptions("selection", REFINE)))
    grown = np.frombuffer(refined.buffers["alpha"], np.uint8).astype(int)
    assert grown.sum() > np.frombuffer(plain.buffers["alpha"], np.uint8).astype(int).sum(), "the edge moved out"


def test_an_editor_that_asks_otherwise_fails_the_comparison(relay):
    """Refine Selection as Krita ran it before: ``refine`` alone, whatever the edge controls."""
    _log, run = relay
    guide = raw_image(W, H, "grey8", ROUGH, name="guide")
    _, asked = run(lambda ask: ask(messages.refine(IMAGE, guide, guide_kind="mask", mode=REFINE, crop_alpha=True)))
    assert asked == expected("Refine Selection")
    assert asked != expected("Refine Selection with an edge control")
    _, asked = run(lambda ask: ask(messages.select_subject(IMAGE, refine=REFINE, edges={"smooth": 0.0})))
    assert asked != expected("Select Subject into the selection"), "zero edges sent are a difference too"


def test_object_selection_flows_ask_what_the_table_says(relay):
    """Object on an image new to the engine (its key, then its pixels), then Add to and Subtract from
    Subject correcting Object's result by its id, as wire.editor.select_object makes them."""
    _log, run = relay
    source = SimpleNamespace(width=W, height=H, rgba=opaque(object_discs(H, W)[0]))
    prompts = ObjectPrompts(box=OBJECT_BOX, points=OBJECT_CLICKS)
    first, asked = run(lambda ask: select_object(ask, source, prompts, MatteOptions("selection", REFINE)))
    assert asked == expected("Object (a box and clicks), the image new to the engine")
    for mode, action, (x, y, w, h) in (
            ("add", "Add to Subject (the engine holds the image and the last result)", ADD_ROUGH),
            ("subtract", "Subtract from Subject (the engine holds the image and the last result)", SUBTRACT_ROUGH)):
        rough = np.zeros((H, W), np.uint8)
        rough[y:y + h, x:x + w] = 255
        result, asked = run(lambda ask: select_object(ask, source, ObjectPrompts(rough=rough.tobytes()),
                                                      MatteOptions("selection", REFINE), mode=mode,
                                                      previous=first.result_id))
        assert result.buffers["alpha"] and asked == expected(action)
