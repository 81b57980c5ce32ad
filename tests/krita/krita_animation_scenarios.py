"""Runs inside real Krita (called by scenarios.py): Select Subject in Animation. An animated layer
(keyframes at the spec's animation_times, in the playback range 0 to animation_end, and one at
animation_outside, past it), into an animated mask (called) or a new animated layer (through the
menu's dialog); no engine, cancelled mid-stream, a still layer, no keyframe in the range; and no
frame feed left once the runs have ended."""

from krita_scenario_kit import (
    BH,
    BW,
    H,
    W,
    added_facts,
    app,
    ctl,
    full,
    image_bytes,
    new_document,
    new_nodes,
    qapp,
    record,
    run,
    settle,
    snapshot,
    spec,
    undo_and_compare,
    undo_index,
    untouched_scenario,
    window,
)
from PyQt5.QtCore import QEvent, QTimer
from softcut_krita.animation_dialog import AnimationDialog
from softcut_krita.worker import FrameFeed

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


def run_animation_scenarios():
    """Every scenario of this module, in order."""
    files = [f"anim{k}.rgba" for k in range(len(A_TIMES) + 1)]
    doc = animated_document("animation", files, list(A_TIMES) + [A_OUTSIDE])
    animation_scenario("animation_mask", doc, "mask")
    animation_scenario("animation_layer", doc, "layer", menu=True)
    untouched_scenario("animation_no_engine", doc, port=spec["dead_port"],
                       call=lambda: ctl.select_subject_in_animation("mask"))
    # Cancelled at the first frame's answer: eight 2 MP keyframes (each a second or more of the engine's work at the
    # spec's quality, against the GUI's 30 ms to pass the cancel on), so that the stream is still running.
    doc = animated_document("animation_cancel", ["big.rgba"] * 8, list(range(8)), BW, BH)
    untouched_scenario("animation_cancel", doc, on_first_progress=ctl.cancel,
                       call=lambda: ctl.select_subject_in_animation("layer", spec["refine"]))
    # A still layer (the document has frames): refused, no request.
    doc = new_document("animation_still", "RGBA", "U8", full, W, H)
    untouched_scenario("animation_still", doc, call=lambda: ctl.select_subject_in_animation("mask"))
    # An animated layer with no keyframe in the playback range.
    doc = animated_document("animation_out_of_range", files[:1], [A_OUTSIDE], playback=(20, 30))
    untouched_scenario("animation_out_of_range", doc, call=lambda: ctl.select_subject_in_animation("layer"))
    # Every run above that reached the engine (or tried to) made a frame feed; none is left once they have ended.
    qapp.sendPostedEvents(None, QEvent.DeferredDelete)
    qapp.processEvents()
    record("animation_feeds", {"left": len(ctl.findChildren(FrameFeed))})
