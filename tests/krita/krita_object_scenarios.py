"""Runs inside real Krita (called by scenarios.py): Object Selection on two red discs (objects.rgba;
editor_files.OBJECT_*). Object with the box a rectangular selection gives and the clicks of the vector
layers "Softcut points" and "Softcut negative points" (small circles), through the menu; Add to Subject
and Subtract from Subject correcting the document's last result (Object's or Select Subject's, made just
before) into the selection (menu), a mask replaced (the docker's button) and a new cut-out layer;
Add to Subject when the engine no longer holds the last result (another engine answers); and the
refusals, which leave the document and its history as they were."""

import time

from krita import Selection
from krita_scenario_kit import (
    H,
    W,
    ctl,
    new_document,
    record,
    requests_seen,
    run,
    settle,
    snapshot,
    softcut_docker,
    spec,
    undo_and_compare,
    undo_index,
)
from softcut_krita import document, objects

BOX = spec["object_box"]
CLICKS = spec["object_clicks"]
PHOTO = [("photo", 0, 0, W, H, "objects.rgba")]
CIRCLE = '<circle cx="{:g}" cy="{:g}" r="3" fill="#ff0000"/>'


def add_points(doc, name, centres):
    """A vector layer ``name`` at the top holding a small circle at each (x, y) canvas pixel (72 ppi: 1 pt = 1 px)."""
    layer = doc.createVectorLayer(name)
    doc.rootNode().addChildNode(layer, None)
    settle(doc)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}pt" height="{H}pt" viewBox="0 0 {W} {H}">'
           + "".join(CIRCLE.format(x, y) for x, y in centres) + "</svg>")
    layer.addShapesFromSvg(svg)
    # Krita draws the shapes on the layer a moment later (on a timer of its own, which waitForDone does not wait
    # for): until then the layer's bounds are empty, and a snapshot taken then differs from one taken later
    deadline = time.monotonic() + 10
    settle(doc)
    while layer.bounds().width() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
        settle(doc)
    return layer


def objects_document(name, *, points=True):
    """A document holding the objects scene in the layer "photo" (active) and, with ``points``, the clicks'
    layers: a circle on the right disc in "Softcut points", one on the left disc in "Softcut negative points"."""
    doc = new_document(name, "RGBA", "U8", PHOTO, W, H)
    photo = doc.activeNode()
    if points:
        add_points(doc, "Softcut points", [xy for *xy, positive in CLICKS if positive])
        add_points(doc, "Softcut negative points", [xy for *xy, positive in CLICKS if not positive])
    activate(doc, photo)
    return doc, photo


def activate(doc, layer):
    """Make ``layer`` the active one again (a setup step: raises when Krita does not)."""
    doc.setActiveNode(document.find_node(doc, layer.uniqueId()))
    settle(doc)
    if doc.activeNode() is None or doc.activeNode().uniqueId() != layer.uniqueId():
        raise RuntimeError(f"Krita did not make '{layer.name()}' the active layer")


def select(doc, x, y, w, h, value=255):
    """The global selection: the rectangle (x, y, w, h) at ``value``, nothing elsewhere; the active layer kept
    (Krita 5.1 makes the topmost layer active when Python sets a selection where there was none)."""
    coverage = bytearray(W * H)
    for row in range(y, y + h):
        coverage[row * W + x:row * W + x + w] = bytes([value]) * w
    active = doc.activeNode()
    selection = Selection()
    selection.setPixelData(bytes(coverage), 0, 0, W, H)
    doc.setSelection(selection)
    settle(doc)
    activate(doc, active)
    return bytes(coverage)


def select_box(doc):
    x0, y0, x1, y1 = BOX
    return select(doc, x0, y0, x1 - x0, y1 - y0)


def earlier(doc, photo, kind, output):
    """The result a correction corrects: Object (the box) or Select Subject, into ``output``, called as the docker does."""
    select_box(doc)
    if kind == "object":
        made = run(call=lambda: ctl.select_object("object", output))
    else:
        made = run(call=lambda: ctl.select_subject(output))
    if not made["ok"]:
        raise RuntimeError(f"the earlier {kind} failed: {made['message']}")
    activate(doc, photo)
    return made


def masks_of(layer):
    return [child for child in layer.childNodes() if child.type() == "transparencymask"]


def object_scenario(name, doc, photo, trigger, output, *, rough=None, **extra):
    """Run ``trigger()`` (an Object Selection action, returning ``run``'s facts) with the selection set to
    ``rough`` (x, y, w, h) if given; read back what ``output`` holds; undo; record."""
    guide = select(doc, *rough) if rough is not None else None
    before = snapshot(doc)
    facts = {"undo_index_before": undo_index(), "output": output, **extra}
    seen = requests_seen()
    facts["run"] = trigger()
    facts["requests"] = [seen, requests_seen()]
    source = ctl.last_source
    facts["rect"] = [source.x, source.y, source.width, source.height]
    layer = document.find_node(doc, photo.uniqueId())
    facts["masks"] = [m.name() for m in masks_of(layer)]
    facts["layers"] = [n.name() for n in doc.topLevelNodes()]
    buffers = {"source": source.rgba}
    if guide is not None:
        buffers["guide"] = guide
    if output == "selection":
        buffers["alpha"] = bytes(doc.selection().pixelData(0, 0, W, H))
    elif output == "mask":
        buffers["alpha"] = bytes(masks_of(layer)[-1].pixelData(0, 0, W, H))
    else:  # the new cut-out layer (the result Krita keeps) and where it went
        nodes = doc.topLevelNodes()
        facts["new_layer"] = [n.uniqueId() for n in nodes].index(ctl.last.node_id)
        facts["cut_outs"] = [k for k, n in enumerate(nodes) if n.name() == "Softcut cut-out"]
        buffers["alpha"] = bytes(masks_of(nodes[facts["new_layer"]])[0].pixelData(0, 0, W, H))
    kept = ctl.results.of(doc)
    buffers["kept"] = kept.alpha if kept is not None else b""
    undo_and_compare(doc, before, facts)
    record(name, facts, **buffers)


def refused(name, doc, call, *, port=None):
    """``call()`` must refuse (or fail): a message, no request sent (but to a missing engine), the document and
    its history unchanged."""
    before = snapshot(doc)
    facts = {"undo_index_before": undo_index()}
    ctl.worker.configure("127.0.0.1", port or spec["port"], spec["token"])
    seen = requests_seen()
    facts["run"] = run(call=call)
    facts["requests"] = [seen, requests_seen()]
    facts["undo_steps_added"] = undo_index() - facts["undo_index_before"]
    facts["unchanged"] = snapshot(doc) == before
    ctl.worker.configure("127.0.0.1", spec["port"], spec["token"])
    record(name, facts)


def run_object_scenarios():
    """Every scenario of this module, in order: the first is the first select_object on the objects image."""
    add_rough, subtract_rough = spec["add_rough"], spec["subtract_rough"]
    doc, photo = objects_document("object_box_points")
    positive, negative = objects.marks(doc)  # what the plug-in reads from the points layers
    marks = [[x, y, True] for x, y in positive] + [[x, y, False] for x, y in negative]
    select_box(doc)
    object_scenario("object_box_points", doc, photo, lambda: run("softcut_select_object"), "selection", marks=marks)

    # The corrections through the menu: into the kind of output the last result went to (the selection).
    doc, photo = objects_document("add_to_subject")
    earlier(doc, photo, "object", "selection")
    object_scenario("add_to_subject", doc, photo, lambda: run("softcut_add_to_subject"), "selection",
                    rough=add_rough)
    doc, photo = objects_document("subtract_from_subject")
    earlier(doc, photo, "subject", "selection")
    object_scenario("subtract_from_subject", doc, photo, lambda: run("softcut_subtract_from_subject"), "selection",
                    rough=subtract_rough)

    # Into a mask (the docker's Add with its Output at Transparency mask: the earlier mask is replaced), and
    # into a new layer (above the earlier cut-out layer).
    doc, photo = objects_document("add_into_mask")
    earlier(doc, photo, "object", "mask")
    softcut_docker.output.setCurrentIndex(softcut_docker.output.findData("mask"))
    object_scenario("add_into_mask", doc, photo, lambda: run(call=softcut_docker.objects["add"].click), "mask",
                    rough=add_rough)
    softcut_docker.output.setCurrentIndex(softcut_docker.output.findData("selection"))
    doc, photo = objects_document("add_into_layer")
    earlier(doc, photo, "object", "layer")
    object_scenario("add_into_layer", doc, photo, lambda: run(call=lambda: ctl.select_object("add", "layer")), "layer",
                    rough=add_rough)

    # The last result made on this engine, corrected on another (behind its own relay), which does not hold it.
    doc, photo = objects_document("add_previous_lost")
    earlier(doc, photo, "object", "selection")
    ctl.worker.configure("127.0.0.1", spec["other_port"], spec["token"])
    object_scenario("add_previous_lost", doc, photo, lambda: run("softcut_add_to_subject"), "selection",
                    rough=add_rough)
    ctl.worker.configure("127.0.0.1", spec["port"], spec["token"])

    run_object_refusals()


def run_object_refusals():
    """What Object Selection refuses before sending anything, and a missing engine."""
    doc, photo = objects_document("object_nothing_marked", points=False)
    doc.setSelection(None)
    settle(doc)
    refused("object_nothing_marked", doc, lambda: ctl.select_object("object"))
    select(doc, 10, 10, 1, 1)
    refused("object_box_too_small", doc, lambda: ctl.select_object("object"))
    select(doc, *spec["add_rough"])
    refused("add_no_previous", doc, lambda: ctl.select_object("add"))
    earlier(doc, photo, "object", "selection")
    doc.setSelection(None)
    settle(doc)
    refused("add_nothing_selected", doc, lambda: ctl.select_object("add"))
    select(doc, *spec["add_rough"], value=100)
    refused("add_faint_selection", doc, lambda: ctl.select_object("subtract"))
    select(doc, *spec["add_rough"])
    ctl.merged = True  # the last result was made from the layer, not the merged image
    refused("add_other_source", doc, lambda: ctl.select_object("add"))
    ctl.merged = False
    refused("add_no_engine", doc, lambda: ctl.select_object("add"), port=spec["dead_port"])
    select_box(doc)
    refused("object_no_engine", doc, lambda: ctl.select_object("object"), port=spec["dead_port"])
