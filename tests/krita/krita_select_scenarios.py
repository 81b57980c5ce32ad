"""Runs inside real Krita (called by scenarios.py): Select Subject, Remove Background and Cut Out on
documents of each colour model and depth, on an offset layer and the merged image; the docker's edge
controls and model choice; Refine Selection; Soft Segment Layers; a long job (Krita stays responsive),
a cancelled one, no engine and an engine that dies mid-job."""

import os
import signal
import time

from krita import Selection
from krita_scenario_kit import (
    BH,
    BW,
    H,
    W,
    added_facts,
    app,
    ctl,
    full,
    new_document,
    new_nodes,
    qapp,
    record,
    requests_seen,
    run,
    scenario,
    settle,
    snapshot,
    softcut_docker,
    source_facts,
    spec,
    undo_and_compare,
    undo_index,
    untouched_scenario,
)
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QInputDialog


def answer_count_dialog(count, offered, tries=200):
    """Answer the next count dialog (modal) with ``count``; the value it offered goes in ``offered``."""
    dialog = qapp.activeModalWidget()
    if isinstance(dialog, QInputDialog):
        offered.append(dialog.intValue())
        dialog.setIntValue(count)
        dialog.accept()
    elif tries > 0:
        QTimer.singleShot(50, lambda: answer_count_dialog(count, offered, tries - 1))


def segments_scenario(name, doc, count, *, docker=False):
    """Soft Segment Layers through the menu (its dialog answered with ``count``) or the docker (its count box set to
    ``count``); read back the group; undo, redo."""
    before = snapshot(doc)
    facts = {"undo_index_before": undo_index(), "docker_count_before": softcut_docker.segment_count.value()}
    offered = []
    seen = requests_seen()
    if docker:
        softcut_docker.segment_count.setValue(count)
        facts["run"] = run(call=softcut_docker.segments.click)
    else:
        QTimer.singleShot(50, lambda: answer_count_dialog(count, offered))
        facts["run"] = run("softcut_soft_segments")
    facts["requests"] = [seen, requests_seen()]
    facts["dialog_offered"] = offered
    facts["docker_count"] = softcut_docker.segment_count.value()
    src, rgba = source_facts()
    facts.update(src)
    x, y, w, h = facts["rect"]
    settle(doc)
    group = doc.topLevelNodes()[-1]
    facts["top"] = [group.name(), group.type()]
    facts["added"] = added_facts(new_nodes(doc, before))
    facts["layers"] = [[c.name(), c.type(), [[m.name(), m.type()] for m in c.childNodes()]] for c in group.childNodes()]
    merged = bytes(doc.pixelData(x, y, w, h))
    buffers = {"source": rgba, "group": bytes(group.projectionPixelData(x, y, w, h)), "merged": merged}
    for k, layer in enumerate(group.childNodes()):
        buffers[f"layer{k}"] = bytes(layer.pixelData(x, y, w, h))
        masks = [m for m in layer.childNodes() if m.type() == "transparencymask"]
        buffers[f"mask{k}"] = bytes(masks[0].pixelData(x, y, w, h)) if masks else b""
    undo_and_compare(doc, before, facts)
    app.action("edit_redo").trigger()
    settle(doc)
    facts["redo_merged_same"] = bytes(doc.pixelData(x, y, w, h)) == merged
    app.action("edit_undo").trigger()
    settle(doc)
    record(name, facts, **buffers)


def run_select_scenarios():
    """Every scenario of this module, in order."""
    doc = new_document("rgba8", "RGBA", "U8", full, W, H)
    scenario("rgba8_selection", doc, "selection", live_edges={"feather": 3.0})
    scenario("rgba8_mask", doc, "mask", live_edges={"contrast": 50.0})
    scenario("rgba8_layer", doc, "layer")
    # The docker's edge controls with Select Subject (its button passes the sliders' values).
    scenario("edges_selection", doc, "selection",
             trigger=lambda: run(call=lambda: ctl.select_subject("selection", {"feather": 3.0, "contrast": 20.0})))

    # Refine Selection: a rough rectangle around the disc; through the menu (no edge control), and as the docker's
    # button runs it with an edge control set.
    box = bytearray(W * H)
    for row in range(H // 5, H - H // 5):
        box[row * W + W // 5: row * W + W - W // 5] = b"\xff" * (W - 2 * (W // 5))

    def select(coverage):
        selection = Selection()
        selection.setPixelData(bytes(coverage), 0, 0, W, H)
        doc.setSelection(selection)
        settle(doc)

    def refine_scenario(name, action=None, call=None):
        select(box)
        before = snapshot(doc)
        facts = {"undo_index_before": undo_index()}
        seen = requests_seen()
        facts["run"] = run(action, call=call)
        facts["requests"] = [seen, requests_seen()]
        src, rgba = source_facts()
        facts.update(src)
        refined = bytes(doc.selection().pixelData(0, 0, W, H))
        undo_and_compare(doc, before, facts)
        record(name, facts, source=rgba, guide=bytes(box), alpha=refined)

    refine_scenario("refine", "softcut_refine_selection")
    refine_scenario("refine_edges", call=lambda: ctl.refine_selection({"shift_edge": 30.0}))
    select(bytes(W * H))  # nothing selected over the layer: refused before any request
    untouched_scenario("refine_nothing_selected", doc, action="softcut_refine_selection")

    # The model choice: connecting fills the docker's model list; the non-default model picked there is the one
    # Select Subject asks for.
    ctl.connect_engine()
    deadline = time.monotonic() + 60
    while not ctl.models and time.monotonic() < deadline:
        qapp.processEvents()
        time.sleep(0.02)
    models_box = softcut_docker.model
    offered = [[models_box.itemData(i), models_box.model().item(i).isEnabled()] for i in range(models_box.count())]
    models_box.setCurrentIndex(models_box.findData(spec["chosen_model"]))
    softcut_docker.output.setCurrentIndex(softcut_docker.output.findData("selection"))
    doc = new_document("model_choice", "RGBA", "U8", full, W, H)
    scenario("model_choice", doc, "selection", trigger=lambda: run(call=softcut_docker.select.click), offered=offered,
             requested=ctl.model)
    models_box.setCurrentIndex(0)  # the default again

    for model, depth in (("RGBA", "U16"), ("RGBA", "F32"), ("GRAYA", "U8")):
        name = f"{model.lower()}_{depth.lower()}"
        doc = new_document(name, model, depth, full, W, H)
        scenario(f"{name}_selection", doc, "selection")
        if model == "RGBA":
            scenario(f"{name}_layer", doc, "layer")

    # A layer smaller than the canvas and partly off it.
    ow, oh = spec["offset_size"]
    doc = new_document("offset", "RGBA", "U8", [("subject", -ow // 4, H - oh // 2, ow, oh, "small.rgba")], W, H)
    scenario("offset_mask", doc, "mask")
    scenario("offset_selection", doc, "selection")

    # The merged image: two layers, each half the picture.
    doc = new_document("merged", "RGBA", "U8", [("left", 0, 0, W, H, "disc.rgba"), ("veil", 0, 0, W // 2, H, "veil.rgba")], W, H)
    ctl.merged = True
    scenario("merged_selection", doc, "selection")
    ctl.merged = False
    # Soft Segment Layers: the same two layers (disc, veil), at the smaller segments size, as three soft layers.
    sw, sh = spec["segments_size"]
    doc = new_document("segments", "RGBA", "U8", [("left", 0, 0, sw, sh, "seg_disc.rgba"),
                                                  ("veil", 0, 0, sw // 2, sh, "seg_veil.rgba")], sw, sh)
    segments_scenario("segments", doc, 3)
    # ... and from the docker as two, where no layer is plain enough to lend a mask (all at opacity 250).
    for node in doc.topLevelNodes():
        node.setOpacity(250)
    segments_scenario("segments_unmasked", doc, 2, docker=True)

    # A larger job on the working engine (2 MP: about a second at the spec's quality, a hundred ticks of the 10 ms
    # timer): Krita's event loop keeps turning while it runs.
    doc = new_document("responsive", "RGBA", "U8", [("subject", 0, 0, BW, BH, "big.rgba")], BW, BH)
    record("responsive", {"run": run("softcut_select_subject")})

    # Cancel (the docker's button calls ctl.cancel) as soon as the job reports progress. Other pixels
    # than the last job's, so that the engine's caches cannot answer before the cancel arrives.
    doc = new_document("cancel", "RGBA", "U8", [("subject", BW // 8, 0, BW, BH, "big.rgba")], BW, BH)
    ctl.refine_mode = "best"
    untouched_scenario("cancel", doc, on_first_progress=ctl.cancel)
    ctl.refine_mode = spec["refine"]

    doc = new_document("dead", "RGBA", "U8", full, W, H)
    untouched_scenario("no_engine", doc, port=spec["dead_port"])
    untouched_scenario("segments_no_engine", doc, port=spec["dead_port"], call=softcut_docker.segments.click)
    doc = new_document("dies", "RGBA", "U8", [("subject", 0, 0, BW, BH, "big.rgba")], BW, BH)
    untouched_scenario("engine_dies", doc, port=spec["kill_port"],
                       on_first_progress=lambda: os.kill(spec["kill_pid"], signal.SIGKILL))
