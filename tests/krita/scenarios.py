"""Runs inside real Krita (started by test_krita_plugin.py): drives the installed plug-in's own
actions on real documents and writes what it reads back to ``OUT`` for pytest to check.

``OUT/spec.json`` says where the engines are and which images to use; each scenario writes
``OUT/<name>.json`` (facts) and ``OUT/<name>.<what>.bin`` (raw pixels).
"""

import hashlib
import json
import os
import signal
import time

from krita import Krita, Selection
from PyQt5.QtCore import QEvent, QEventLoop, QObject, QTimer
from PyQt5.QtWidgets import QApplication, QInputDialog, QMenu

import softcut_krita
from softcut_krita import document
from softcut_krita.extension import ACTIONS

spec = json.loads((OUT / "spec.json").read_text())
app = Krita.instance()
qapp = QApplication.instance()
window = app.activeWindow()
ctl = softcut_krita.softcut_extension.controller
ctl.worker.configure("127.0.0.1", spec["port"], spec["token"])
ctl.phone.configure("127.0.0.1", spec["port"])
ctl.refine_mode = spec["refine"]
undo_view = [o for w in qapp.topLevelWidgets() for o in w.findChildren(QObject)
             if o.metaObject().className() == "KisUndoView"][0]


def settle(doc):
    for _ in range(3):
        doc.waitForDone()
        qapp.processEvents()


def undo_index():
    qapp.processEvents()
    return undo_view.selectionModel().currentIndex().row()


def image_bytes(name):
    return (OUT / name).read_bytes()


def new_document(name, model, depth, layers, width, height):
    """A document with a white background and ``layers``: (name, x, y, w, h, rgba file), converted to model/depth."""
    doc = app.createDocument(width, height, name, "RGBA", "U8", "", 72.0)
    background = doc.topLevelNodes()[0]
    background.setPixelData(b"\xff" * (4 * width * height), 0, 0, width, height)
    top = None
    for layer_name, x, y, w, h, source in layers:
        node = doc.createNode(layer_name, "paintlayer")
        rgba = image_bytes(source)
        bgra = bytearray(rgba)
        bgra[0::4], bgra[2::4] = rgba[2::4], rgba[0::4]
        node.setPixelData(bytes(bgra), x, y, w, h)
        doc.rootNode().addChildNode(node, None)
        top = node
    if (model, depth) != ("RGBA", "U8"):
        doc.setColorSpace(model, depth, "")
    window.addView(doc)
    app.setActiveDocument(doc)
    settle(doc)
    if top is not None:
        doc.setActiveNode(document.find_node(doc, top.uniqueId()))
    settle(doc)
    return doc


def snapshot(doc):
    """Everything an operation could change: the node tree with each node's pixels, and the selection."""
    settle(doc)
    nodes = []
    stack = [(n, 0) for n in doc.topLevelNodes()]
    while stack:
        node, depth = stack.pop(0)
        b = node.bounds()
        data = bytes(node.pixelData(b.x(), b.y(), b.width(), b.height())) if b.width() > 0 else b""
        nodes.append([depth, node.name(), node.type(), b.x(), b.y(), b.width(), b.height(),
                      hashlib.sha1(data).hexdigest()])
        stack = [(c, depth + 1) for c in node.childNodes()] + stack
    selection = doc.selection()
    sel = hashlib.sha1(bytes(selection.pixelData(0, 0, doc.width(), doc.height()))).hexdigest() if selection else None
    return {"nodes": nodes, "selection": sel}


def run(action=None, call=None, on_progress=None, timeout=240.0):
    """Trigger a plug-in action and keep Krita's event loop running until it reports; facts about the wait."""
    ticks = [0]
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    loop = QEventLoop()
    outcome = {}

    def finished(ok):
        outcome["ok"] = ok
        loop.quit()

    ctl.finished.connect(finished)
    if on_progress is not None:
        ctl.progress.connect(on_progress)
    timer.start()
    t0 = time.monotonic()
    if action is not None:
        app.action(action).trigger()
    else:
        call()
    returned_after = time.monotonic() - t0
    busy_after_trigger = ctl.worker.busy
    ticks_at_return = ticks[0]
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    if "ok" not in outcome and ctl.worker.busy:
        loop.exec_()
    timer.stop()
    ctl.finished.disconnect(finished)
    if on_progress is not None:
        ctl.progress.disconnect(on_progress)
    return {"ok": outcome.get("ok"), "trigger_returned_s": returned_after, "busy_after_trigger": busy_after_trigger,
            "ticks_while_waiting": ticks[0] - ticks_at_return, "wait_s": time.monotonic() - t0,
            "message": ctl.last_message}


def requests_seen():
    """How many messages the request log (test_krita_plugin's relay to the engine) holds so far."""
    log = OUT / "requests.jsonl"
    return log.read_bytes().count(b"\n") if log.exists() else 0


def record(name, facts, **buffers):
    for what, data in buffers.items():
        (OUT / f"{name}.{what}.bin").write_bytes(data)
    (OUT / f"{name}.json").write_text(json.dumps(facts, indent=1))


def source_facts():
    s = ctl.last_source
    return {"rect": [s.x, s.y, s.width, s.height]}, s.rgba


def new_nodes(doc, before):
    known = {tuple(n[1:3]) for n in before["nodes"]}
    found = []
    stack = list(doc.topLevelNodes())
    while stack:
        node = stack.pop(0)
        if (node.name(), node.type()) not in known:
            found.append(node)
        stack = list(node.childNodes()) + stack
    return found


def undo_and_compare(doc, before, facts):
    facts["undo_steps_added"] = undo_index() - facts["undo_index_before"]
    model = undo_view.model()
    facts["history"] = [model.data(model.index(i, 0)) for i in range(model.rowCount())]
    facts["profile"] = doc.colorProfile()
    app.action("edit_undo").trigger()
    settle(doc)
    facts["undo_restores"] = snapshot(doc) == before
    if not facts["undo_restores"]:
        facts["after_undo"] = snapshot(doc)
        facts["before"] = before


def nodes_named(doc, *names):
    return [[n for n in document.layers_top_down(doc) if n.name() == name][0] for name in names]


def node_hash(node):
    b = node.bounds()
    return hashlib.sha1(bytes(node.pixelData(b.x(), b.y(), b.width(), b.height()))).hexdigest()


def added_facts(nodes):
    return [[n.name(), n.type(), n.parentNode().name()] for n in nodes]


def output_alpha(doc, before, output, rect):
    """What ``output`` holds over ``rect``: the selection, or the first new transparency mask (b"" when none)."""
    if output == "selection":
        return bytes(doc.selection().pixelData(*rect))
    masks = [n for n in new_nodes(doc, before) if n.type() == "transparencymask"]
    return bytes(masks[0].pixelData(*rect)) if masks else b""


def scenario(name, doc, output, *, live_edges=None, trigger=None, kept=(), **extra):
    """Select Subject into ``output`` through the plug-in's action (or ``trigger()``, which runs one and returns
    ``run``'s facts); read back; the layers named in ``kept`` are unchanged; undo. ``extra`` goes into the facts."""
    before = snapshot(doc)
    kept_nodes = nodes_named(doc, *kept)
    hashes = [node_hash(n) for n in kept_nodes]
    facts = {"undo_index_before": undo_index(), "output": output, "size": [doc.width(), doc.height()],
             "model": doc.colorModel(), "depth": doc.colorDepth(), **extra}
    seen = requests_seen()
    if trigger is None:
        action = {"selection": "softcut_select_subject", "mask": "softcut_remove_background",
                  "layer": "softcut_cut_out"}[output]
        facts["run"] = run(action)
    else:
        facts["run"] = trigger()
    facts["requests"] = [seen, requests_seen()]  # the lines of the request log this run added
    src, rgba = source_facts()
    facts.update(src)
    rect = facts["rect"]
    buffers = {"source": rgba, "alpha": output_alpha(doc, before, output, rect)}
    if output == "selection":
        buffers["canvas_selection"] = bytes(doc.selection().pixelData(0, 0, doc.width(), doc.height()))
    else:
        added = new_nodes(doc, before)
        facts["added"] = added_facts(added)
        if output == "layer":
            buffers["layer"] = bytes([n for n in added if n.type() == "paintlayer"][0].pixelData(*rect))
    if kept:
        facts["kept_unchanged"] = [node_hash(n) for n in kept_nodes] == hashes
    if live_edges is not None:
        facts["live"] = run(call=lambda: ctl.adjust_edges(live_edges))
        buffers["live_alpha"] = output_alpha(doc, before, output, rect)
        facts["live_undo_steps"] = undo_index() - facts["undo_index_before"]
    undo_and_compare(doc, before, facts)
    record(name, facts, **buffers)


def untouched_scenario(name, doc, *, port=None, on_first_progress=None, action="softcut_select_subject", call=None,
                       **extra):
    """A request (``action``, or ``call``) that must fail (no engine on ``port``, or ``on_first_progress`` from the
    engine cancels or kills it): a message, and the document and its history untouched. ``extra`` goes into the
    facts."""
    before = snapshot(doc)
    facts = {"undo_index_before": undo_index(), **extra}
    ctl.worker.configure("127.0.0.1", port or spec["port"], spec["token"])
    stages = []

    def on_progress(fraction, stage):
        if stage == "sent":  # the plug-in's own report; the rest come from the engine
            return
        stages.append(stage)
        if on_first_progress is not None and len(stages) == 1:
            on_first_progress()

    facts["run"] = run(None if call else action, call=call, on_progress=on_progress)
    facts["stages"] = stages
    facts["undo_steps_added"] = undo_index() - facts["undo_index_before"]
    facts["unchanged"] = snapshot(doc) == before
    ctl.worker.configure("127.0.0.1", spec["port"], spec["token"])
    record(name, facts)


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


menus = {action_id: [m.title().replace("&", "") for m in window.qwindow().findChildren(QMenu)
                     if app.action(action_id) in m.actions()]
         for action_id, *_ in ACTIONS}
docker = [d.windowTitle() for d in app.dockers() if d.objectName() == "softcut_docker"]
record("ui", {"menus": menus, "dockers": docker})
softcut_docker = [d for d in app.dockers() if d.objectName() == "softcut_docker"][0]

W, H = spec["width"], spec["height"]
full = [("subject", 0, 0, W, H, "disc.rgba")]

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
# Soft Segment Layers: the same two layers (disc, veil) as three soft layers.
segments_scenario("segments", doc, 3)
# ... and from the docker as two, where no layer is plain enough to lend a mask (all at opacity 250).
for node in doc.topLevelNodes():
    node.setOpacity(250)
segments_scenario("segments_unmasked", doc, 2, docker=True)

# A larger job on the working engine: Krita's event loop keeps turning while it runs.
BW, BH = spec["big_size"]
doc = new_document("responsive", "RGBA", "U8", [("subject", 0, 0, BW, BH, "big.rgba")], BW, BH)
ctl.refine_mode = "best"
record("responsive", {"run": run("softcut_select_subject")})
ctl.refine_mode = spec["refine"]

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

# Phone cut & paste: a phone (a client on a thread here) cuts out an object and pastes it with a
# photo of the screen; the plug-in's phone link answers the engine on Krita's GUI thread.
import threading  # noqa: E402

from softcut_krita.wire.client import SoftcutClient, raw_image  # noqa: E402

PW, PH = spec["poster_size"]
doc = new_document("phone", "RGBA", "U8", [("poster", 0, 0, PW, PH, "poster.rgba")], PW, PH)
before = snapshot(doc)
undo_before = undo_index()
outcome = {}


def phone_side():
    try:
        ow, oh = spec["object_size"]
        side = spec["photo_side"]
        with SoftcutClient("127.0.0.1", spec["port"], token=spec["token"], name="softcut-phone") as phone:
            cut = phone.phone_cut(raw_image(ow, oh, "rgba8", image_bytes("object.rgba"))).fields["cut"]
            pasted = phone.phone_paste(cut, raw_image(side, side, "rgb8", image_bytes("photo.rgb"), name="photo"),
                                     name="Phone mug")
        outcome.update({k: v for k, v in pasted.fields.items() if k != "timings"})
    except Exception as exc:  # reported in the facts
        outcome["error"] = repr(exc)


seen = requests_seen()
phone_thread = threading.Thread(target=phone_side, daemon=True)
phone_thread.start()
deadline = time.monotonic() + 180
while phone_thread.is_alive() and time.monotonic() < deadline:
    qapp.processEvents()
    time.sleep(0.01)
settle(doc)
after = snapshot(doc)
old = {tuple(n[:3]) for n in before["nodes"]}
added = [n[1:7] for n in after["nodes"] if tuple(n[:3]) not in old]
top = doc.topLevelNodes()[-1]
facts = {"phone": outcome, "added": added, "top": top.name(), "undo_steps": undo_index() - undo_before,
         "requests": [seen, requests_seen()]}
b = top.bounds()
layer_bytes = bytes(top.pixelData(b.x(), b.y(), b.width(), b.height()))
app.action("edit_undo").trigger()
settle(doc)
facts["undo_restores"] = snapshot(doc) == before
record("phone", facts, layer=layer_bytes)

# The docker's "Paste from phone...": the engine's phone link and its QR code (LAN engine), or the
# advice to start the engine with --lan.
link = {"no_lan": run(call=softcut_docker.phone.click)}
ctl.worker.configure("127.0.0.1", spec["lan_port"], spec["token"])
link["lan"] = run(call=softcut_docker.phone.click)
ctl.worker.configure("127.0.0.1", spec["port"], spec["token"])
pixmap = softcut_docker.qr.pixmap()
link.update({"qr_visible": softcut_docker.qr.isVisible(), "qr_size": [pixmap.width(), pixmap.height()] if pixmap else None,
             "url": softcut_docker.phone_url.text()})
record("phone_link", link)

# Select Subject with Clean Plate: the plate is another layer (hidden or not, read whole) or a file.
from softcut_krita.plate_dialog import PlateDialog  # noqa: E402

PW, PH = spec["plate_size"]


def answer_plate_dialog(offered, setup=None, accept=True, tries=200):
    """Answer the next plate dialog: note what it offers in ``offered``, let ``setup(dialog)`` change it, then
    accept (or cancel) it."""
    dialog = qapp.activeModalWidget()
    if isinstance(dialog, PlateDialog):
        offered.update({"layers": [dialog.layers.itemText(i) for i in range(dialog.layers.count())],
                        "layer": dialog.layers.currentText(), "by_layer": dialog.layer_button.isChecked(),
                        "layer_enabled": dialog.layer_button.isEnabled(), "output": dialog.output.currentData(),
                        "note": dialog.note.text() if dialog.note.isVisible() else "", "path": dialog.path.text()})
        if setup is not None:
            setup(dialog)
        offered["ok_enabled"] = dialog.buttons.button(dialog.buttons.Ok).isEnabled()
        (dialog.accept if accept else dialog.reject)()
    elif tries > 0:
        QTimer.singleShot(50, lambda: answer_plate_dialog(offered, setup, accept, tries - 1))


def choose_output(output):
    return lambda dialog: dialog.output.setCurrentIndex(dialog.output.findData(output))


def choose_file(path, output):
    def setup(dialog):
        dialog.file_button.setChecked(True)
        dialog.path.setText(str(path))
        choose_output(output)(dialog)
    return setup


def plate_scenario(name, doc, output, *, setup=None, call=None, docker=False, live_edges=None, kept=("subject",)):
    """Select Subject with Clean Plate into ``output``: through the menu (its dialog answered: ``setup``), the
    docker's button, or ``call``; then as ``scenario``: read back, the layers named in ``kept`` unchanged, undo."""
    offered = {}

    def trigger():
        if call is not None:
            return run(call=call)
        QTimer.singleShot(50, lambda: answer_plate_dialog(offered, setup))
        if docker:
            softcut_docker.output.setCurrentIndex(softcut_docker.output.findData(output))
            return run(call=softcut_docker.plate.click)
        return run("softcut_select_subject_plate")

    scenario(name, doc, output, live_edges=live_edges, trigger=trigger, kept=kept, offered=offered)


def plate_call(output, layer=None, path=None):
    uid = layer.uniqueId() if layer is not None else None
    return lambda: ctl.select_subject_with_plate(output, plate_layer=uid, plate_file=path)


# The plate as a hidden layer named "Clean plate" under the subject.
doc = new_document("plate", "RGBA", "U8", [("Clean plate", 0, 0, PW, PH, "plate.rgba"),
                                            ("subject", 0, 0, PW, PH, "scene.rgba")], PW, PH)
nodes_named(doc, "Clean plate")[0].setVisible(False)
settle(doc)
plate_scenario("plate_selection", doc, "selection", live_edges={"feather": 3.0}, kept=("subject", "Clean plate"))
plate_scenario("plate_mask", doc, "mask", setup=choose_output("mask"), kept=("subject", "Clean plate"))
plate_scenario("plate_layer", doc, "layer", docker=True, kept=("subject", "Clean plate"))

# Which layer the dialog offers first: just below the active layer, unless a name holds "plate"; cancelled.
# (Krita 5.1 under Xvfb ignores Document.setActiveNode: the view makes its top layer active when it opens,
# and a layer added afterwards, on top, stays inactive.)
doc = new_document("plate_choice", "RGBA", "U8", [("ground", 0, 0, PW, PH, "plate.rgba"),
                                                  ("photo", 0, 0, PW, PH, "scene.rgba")], PW, PH)
sky = doc.createNode("sky", "paintlayer")
sky.setPixelData(b"\x80" * (4 * 16 * 16), 0, 0, 16, 16)
doc.rootNode().addChildNode(sky, None)
settle(doc)
choice = {}
for key, rename in (("below", None), ("named", "Old PLATE shot")):
    if rename:
        nodes_named(doc, "Background")[0].setName(rename)
        settle(doc)
    before = snapshot(doc)
    undo_before = undo_index()
    offered = {}
    QTimer.singleShot(50, lambda: answer_plate_dialog(offered, accept=False))
    choice[key] = {"active": doc.activeNode().name(), "run": run("softcut_select_subject_plate"), "offered": offered,
                   "undo_steps_added": undo_index() - undo_before, "unchanged": snapshot(doc) == before}
record("plate_choice", choice)

# The plate from a file: through the dialog (a PNG of another size), or called (JPEG; BMP, decoded by Qt).
doc = new_document("plate_file", "RGBA", "U8", [("subject", 0, 0, PW, PH, "scene.rgba")], PW, PH)
plate_scenario("plate_file_png", doc, "selection", setup=choose_file(OUT / "plate_crop.png", "selection"))
plate_scenario("plate_file_jpeg", doc, "mask", call=plate_call("mask", path=str(OUT / "plate.jpg")))
plate_scenario("plate_file_bmp", doc, "selection", call=plate_call("selection", path=str(OUT / "plate.bmp")))

# The image layer offset and partly off the canvas (sent clipped, as Select Subject sends it); the plate
# layer moved with it, read whole (part of it off the canvas too).
doc = new_document("plate_offset", "RGBA", "U8", [("backdrop", -40, 30, PW, PH, "plate.rgba"),
                                                  ("subject", -40, 30, PW, PH, "scene.rgba")], PW, PH)
plate_scenario("plate_offset", doc, "selection", call=plate_call("selection", nodes_named(doc, "backdrop")[0]),
               kept=("subject", "backdrop"))

# Failures: a plate of another scene (layer, file), no engine, no plate, the image itself, unreadable files.
doc = new_document("plate_fail", "RGBA", "U8", [("other scene", 0, 0, PW, PH, "other.rgba"),
                                                ("subject", 0, 0, PW, PH, "scene.rgba")], PW, PH)
other, subject = nodes_named(doc, "other scene", "subject")
untouched_scenario("plate_other_scene", doc, call=plate_call("mask", other))
untouched_scenario("plate_other_scene_file", doc, call=plate_call("selection", path=str(OUT / "other.png")))
untouched_scenario("plate_no_engine", doc, port=spec["dead_port"], call=plate_call("layer", other))
untouched_scenario("plate_none", doc, call=plate_call("selection"))
untouched_scenario("plate_is_image", doc, call=plate_call("selection", subject))
untouched_scenario("plate_missing_file", doc, call=plate_call("selection", path=str(OUT / "no such plate.png")))
untouched_scenario("plate_not_an_image", doc, call=plate_call("selection", path=str(OUT / "notes.txt")))
# ... and the same through the menu, the dialog answered with the other scene's layer (the default).
offered = {}
QTimer.singleShot(50, lambda: answer_plate_dialog(offered))
untouched_scenario("plate_other_scene_menu", doc, action="softcut_select_subject_plate", offered=offered)

# A document with no other paint layer: the dialog offers only a file.
doc = new_document("plate_alone", "RGBA", "U8", [], PW, PH)
offered = {}
QTimer.singleShot(50, lambda: answer_plate_dialog(offered, accept=False))
record("plate_alone", {"run": run("softcut_select_subject_plate"), "offered": offered})

# Select Subject in Animation: an animated layer (keyframes at the spec's animation_times, in the playback
# range 0 to animation_end, and one at animation_outside, past it), into an animated mask (called) or a new
# animated layer (through the menu's dialog).
from softcut_krita.animation_dialog import AnimationDialog  # noqa: E402

A_TIMES, A_OUTSIDE, A_END = spec["animation_times"], spec["animation_outside"], spec["animation_end"]


def animated_document(name, files, times, width=W, height=H, playback=(0, A_END)):
    """A one-layer document whose layer has a keyframe at each of ``times`` holding the rgba file of ``files``."""
    doc = app.createDocument(width, height, name, "RGBA", "U8", "", 72.0)
    window.addView(doc)
    app.setActiveDocument(doc)
    settle(doc)
    layer = doc.activeNode()
    for source, t in zip(files, times):
        doc.setCurrentTime(t)
        settle(doc)
        app.action("add_blank_frame").trigger()
        settle(doc)
        rgba = image_bytes(source)
        bgra = bytearray(rgba)
        bgra[0::4], bgra[2::4] = rgba[2::4], rgba[0::4]
        layer.setPixelData(bytes(bgra), 0, 0, width, height)
    # The range is the document's Start and End (the Animation docker's). Document.setPlayBackRange is no use here:
    # Krita 5.1's timeline sets the playback range to its selected frames (or clears it, falling back to Start-End)
    # 300 ms after its selection changes, which every time switch does; and setPlayBackRange(0, 10) ends at 9.
    doc.setFullClipRangeEndTime(playback[1])
    doc.setFullClipRangeStartTime(playback[0])
    doc.setCurrentTime(1)
    settle(doc)
    return doc


def ranges(doc):
    """The document's Start and End, and its playback range."""
    return [doc.fullClipRangeStartTime(), doc.fullClipRangeEndTime(), doc.playBackStartTime(), doc.playBackEndTime()]


def frames_of(node, times):
    return {t: bytes(node.pixelDataAtTime(0, 0, W, H, t)) for t in times}


def answer_animation_dialog(offered, output, tries=200):
    dialog = qapp.activeModalWidget()
    if isinstance(dialog, AnimationDialog):
        offered.update({"output": dialog.output.currentData(), "quality": dialog.quality.currentData()})
        dialog.output.setCurrentIndex(dialog.output.findData(output))
        dialog.quality.setCurrentIndex(dialog.quality.findData(spec["refine"]))
        dialog.accept()
    elif tries > 0:
        QTimer.singleShot(50, lambda: answer_animation_dialog(offered, output, tries - 1))


def animation_scenario(name, doc, output, *, menu=False):
    """Select Subject in Animation into ``output``; read back every keyframe of what was added; undo."""
    layer = doc.activeNode()
    every = list(A_TIMES) + [A_OUTSIDE]
    source = frames_of(layer, every)
    before = snapshot(doc)
    facts = {"undo_index_before": undo_index(), "time_before": doc.currentTime(), "layer": layer.name(),
             "source_keys": [t for t in range(40) if layer.hasKeyframeAtTime(t)],
             "ranges_before": ranges(doc)}
    offered = {}
    if menu:
        QTimer.singleShot(50, lambda: answer_animation_dialog(offered, output))
        facts["run"] = run("softcut_select_subject_animation")
    else:
        facts["run"] = run(call=lambda: ctl.select_subject_in_animation(output, spec["refine"]))
    facts["offered"] = offered
    added = new_nodes(doc, before)
    facts["added"] = added_facts(added)
    buffers = {}
    if added:
        node = added[0]
        facts["keys"] = [t for t in range(40) if node.hasKeyframeAtTime(t)]
        facts["animated"] = node.animated()
        for t, data in frames_of(node, every).items():
            buffers[f"result{t}"] = data
    for t in A_TIMES:
        buffers[f"source{t}"] = source[t]
    facts["source_untouched"] = frames_of(layer, every) == source
    facts["time_after"] = doc.currentTime()
    facts["ranges_after"] = ranges(doc)
    undo_and_compare(doc, before, facts)
    facts["ranges_after_undo"] = ranges(doc)
    facts["source_untouched_after_undo"] = frames_of(layer, every) == source
    record(name, facts, **buffers)


files = [f"anim{k}.rgba" for k in range(len(A_TIMES) + 1)]
doc = animated_document("animation", files, list(A_TIMES) + [A_OUTSIDE])
animation_scenario("animation_mask", doc, "mask")
animation_scenario("animation_layer", doc, "layer", menu=True)
untouched_scenario("animation_no_engine", doc, port=spec["dead_port"],
                   call=lambda: ctl.select_subject_in_animation("mask"))
# Cancelled at the first frame's answer: eight 2 MP keyframes, so that the stream is still running.
doc = animated_document("animation_cancel", ["big.rgba"] * 8, list(range(8)), BW, BH)
ctl.refine_mode = "best"
untouched_scenario("animation_cancel", doc, on_first_progress=ctl.cancel,
                   call=lambda: ctl.select_subject_in_animation("layer", "best"))
ctl.refine_mode = spec["refine"]
# A still layer (the document has frames): refused, no request.
doc = new_document("animation_still", "RGBA", "U8", full, W, H)
untouched_scenario("animation_still", doc, call=lambda: ctl.select_subject_in_animation("mask"))
# An animated layer with no keyframe in the playback range.
doc = animated_document("animation_out_of_range", files[:1], [A_OUTSIDE], playback=(20, 30))
untouched_scenario("animation_out_of_range", doc, call=lambda: ctl.select_subject_in_animation("layer"))
# Every run above that reached the engine (or tried to) made a frame feed; none is left once they have ended.
from softcut_krita.worker import FrameFeed  # noqa: E402

qapp.sendPostedEvents(None, QEvent.DeferredDelete)
qapp.processEvents()
record("animation_feeds", {"left": len(ctl.findChildren(FrameFeed))})

(OUT / "done").write_text("ok")
