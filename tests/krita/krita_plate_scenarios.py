"""Runs inside real Krita (called by scenarios.py): Select Subject with Clean Plate. The plate is
another layer (hidden or not, read whole) or a file, chosen in the menu's dialog, through the docker's
button or called; which layer the dialog offers first; a plate that cannot be used."""

from krita_scenario_kit import (
    OUT,
    ctl,
    new_document,
    nodes_named,
    qapp,
    record,
    run,
    scenario,
    settle,
    snapshot,
    softcut_docker,
    spec,
    undo_index,
    untouched_scenario,
)
from PyQt5.QtCore import QTimer
from softcut_krita.plate_dialog import PlateDialog

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


def run_plate_scenarios():
    """Every scenario of this module, in order."""
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
