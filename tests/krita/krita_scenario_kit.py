"""Runs inside real Krita (imported by scenarios.py): what every Krita scenario is built from.

Importing it reads ``OUT/spec.json`` (where the engines are, which images to use) and points the
installed plug-in's controller at the test engine. Then: documents made from the input files, the
plug-in's actions run while Krita's event loop turns, snapshots of everything an action could
change, and the record of each scenario: ``OUT/<name>.json`` (facts) and ``OUT/<name>.<what>.bin``
(raw pixels), which the tests (krita_scenario_run.py starts the session) read.
"""

import hashlib
import json
import os
import time
from pathlib import Path

import softcut_krita
from krita import Krita
from PyQt5.QtCore import QEventLoop, QObject, QTimer
from PyQt5.QtWidgets import QApplication
from softcut_krita import document

OUT = Path(os.environ["SOFTCUT_KRITA_OUT"])
TIMINGS = {"scenarios": {}}  # OUT/timings.json: seconds per record() since the one before (see record)
_last_record = [time.monotonic()]
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
softcut_docker = [d for d in app.dockers() if d.objectName() == "softcut_docker"][0]

W, H = spec["width"], spec["height"]
full = [("subject", 0, 0, W, H, "disc.rgba")]
BW, BH = spec["big_size"]  # the 2 MP layer, for jobs long enough to act on mid-way


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
    """How many messages the request log (krita_scenario_run's relay to the engine) holds so far."""
    log = OUT / "requests.jsonl"
    return log.read_bytes().count(b"\n") if log.exists() else 0


def record(name, facts, **buffers):
    for what, data in buffers.items():
        (OUT / f"{name}.{what}.bin").write_bytes(data)
    (OUT / f"{name}.json").write_text(json.dumps(facts, indent=1))
    now = time.monotonic()  # the time since the last record: this scenario's, set-up included
    TIMINGS["scenarios"][name] = round(now - _last_record[0], 2)
    _last_record[0] = now
    (OUT / "timings.json").write_text(json.dumps(TIMINGS, indent=1))


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

