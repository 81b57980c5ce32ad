"""The GIMP 3 plug-in in real GIMP 3.0 (GUI, under Xvfb, in a Debian 13 chroot) against a real engine.

``tests/gimp/make_chroot.sh`` builds the chroot once (CI runs it); GIMP runs
``scenarios.py`` through its ``python-fu-eval`` batch interpreter, which calls
the Softcut procedures through the PDB. The plug-in goes in with
``softcut install-plugin gimp``. The engines run here, outside the chroot, on
loopback (which the chroot shares). Every result read back from GIMP is compared
with what the engine returns when asked directly for the same pixels.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from PIL import Image

from conftest import build_tiny_model, red_disc_image, write_sidecar
from editor_files import (BIG, CHOSEN_MODEL, PHONE_CENTRE, PHONE_OBJECT, PHONE_PHOTO, PLATE_SIZE, POSTER, REFINE, SIZE,
                          SMALL, TOLERANCE, direct_model_select, direct_plate, direct_segments, facts, free_port, grey,
                          opaque_rgba8, write_inputs, write_model_zoo, write_phone_inputs, write_plate_inputs)
import editor_requests
from editor_requests import GIMP_SCENARIOS, LOG, RequestLog, action_requests, read_log
from wire.client import EngineError, SoftcutClient, raw_image
from testing.launcher import EngineProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gimp_session as session  # noqa: E402  (GIMP in the chroot)

HERE = Path(__file__).resolve().parent
W, H = SIZE
SEGMENTS, DIALOG_SEGMENTS = 4, 3  # Soft Segment Layers' count, called by script and from the dialog
COMPOSITE_TOLERANCE = 6  # /255: the segment layers stacked give back the image within this

if not session.READY.exists() and not os.environ.get("CI"):
    pytest.skip("needs the GIMP 3 chroot: run `sh tests/gimp/make_chroot.sh` (as root) first",
                allow_module_level=True)


def _on_first_job(engine: EngineProcess, act, stop: threading.Event, seen: dict) -> None:
    """Call ``act()`` as soon as ``engine`` reports a running job (the plug-in's request), then watch it idle."""
    while not stop.is_set():
        try:
            with SoftcutClient(port=engine.port, token=engine.token, timeout=5) as probe:
                while not stop.is_set():
                    if probe.status().get("jobs", {}).get("running", 0) > 0:
                        seen["running"] = True
                        act()
                        for _ in range(200):
                            status = probe.status()
                            if status.get("jobs", {}).get("running", 0) == 0:
                                seen["idle"], seen["jobs_done"] = True, status.get("jobs_done")
                                return
                            stop.wait(0.05)
                        return
                    stop.wait(0.02)
        except Exception:  # not up yet, or gone
            stop.wait(0.2)


@pytest.fixture(scope="module")
def gimp_run():
    """Run every scenario in one GIMP session; yields (OUT folder, engine client factory, watcher facts)."""
    assert session.READY.exists(), "CI must build the chroot: sh tests/gimp/make_chroot.sh"
    tmp, inside = session.shared_folder("softcut-gimp-")
    engines: list[EngineProcess] = []
    relay = None
    try:
        model = build_tiny_model(tmp / "tiny.onnx")
        write_sidecar(model)
        with pytest.MonkeyPatch.context() as env:  # the engines find the chosen model's stand-in in rembg's folder
            env.setenv("U2NET_HOME", str(write_model_zoo(tmp / "u2net")))
            for _ in range(3):  # the one that answers, one killed mid-job, one whose client is killed mid-job
                engines.append(EngineProcess(tmp / "config", model, "--device", "cpu", home=tmp / "softcut-home",
                                             timeout=60))
        engine, doomed, abandoned = engines
        out = tmp / "out"
        out.mkdir()
        write_inputs(out, veil_alpha=200)  # a veil that moves the matte
        write_phone_inputs(out)
        write_plate_files(out)
        relay = RequestLog(engine.port, out / LOG)  # GIMP talks to the engine through it: what each action asks
        spec = {"port": relay.port, "refine": REFINE, "width": W, "height": H, "offset_size": list(SMALL),
                "big_size": list(BIG), "dead_port": free_port(), "kill_port": doomed.port,
                "abandoned_port": abandoned.port, "poster_size": list(POSTER), "photo_side": PHONE_PHOTO,
                "object_size": list(PHONE_OBJECT), "segments": SEGMENTS, "dialog_segments": DIALOG_SEGMENTS,
                "plate_size": list(PLATE_SIZE), "chosen_model": CHOSEN_MODEL}
        (out / "spec.json").write_text(json.dumps(spec))
        shutil.copy(HERE / "scenarios.py", tmp / "scenarios.py")

        session.install_plugin(tmp)
        plugin = inside / "home" / ".config" / "GIMP" / "3.0" / "plug-ins" / "softcut_gimp" / "softcut_gimp.py"
        stop, seen = threading.Event(), {"engine_dies": {}, "plugin_killed": {}}
        watchers = [  # the engine dies mid-job; the plug-in process dies mid-job
            (doomed, lambda: doomed.proc.send_signal(signal.SIGKILL), seen["engine_dies"]),
            (abandoned, lambda: subprocess.run(["pkill", "-KILL", "-f", str(plugin)]), seen["plugin_killed"]),
        ]
        for engine_, act, record in watchers:
            threading.Thread(target=_on_first_job, args=(engine_, act, stop, record), daemon=True).start()
        try:
            log = session.run_script(inside, inside / "scenarios.py", {
                "SOFTCUT_CONFIG": str(inside / "config"), "SOFTCUT_GIMP_OUT": str(inside / "out")}, timeout=900)
        finally:
            stop.set()
        error = (out / "driver_error.txt").read_text() if (out / "driver_error.txt").exists() else ""
        if error or not (out / "done").exists():
            pytest.fail(f"the GIMP session did not finish:\n{error}\n{log[-3000:]}")

        def client() -> SoftcutClient:
            return SoftcutClient(port=engine.port, token=engine.token, timeout=120)

        yield out, client, seen
    finally:
        if relay is not None:
            relay.close()
        for process in engines:
            process.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def write_plate_files(out: Path) -> None:
    """:func:`write_plate_inputs`' files, and the plate as plate.png and plate.tif."""
    write_plate_inputs(out)
    plate = Image.frombytes("RGBA", PLATE_SIZE, (out / "plate.rgba").read_bytes()).convert("RGB")
    plate.save(out / "plate.png")
    plate.save(out / "plate.tif")  # not PNG or JPEG: GIMP opens it for the plug-in


def direct_select(client, source: bytes, w: int, h: int, outputs=("alpha",), edges=None) -> dict:
    with client() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", source), outputs=list(outputs), refine=REFINE,
                                       edges=edges)
    return {k: np.frombuffer(v, np.uint8) for k, v in result.buffers.items()}


def direct_refine(client, source: bytes, guide: bytes, w: int, h: int, edges=None) -> np.ndarray:
    with client() as engine:
        result = engine.refine(raw_image(w, h, "rgba8", source), raw_image(w, h, "grey8", guide, name="guide"),
                               guide_kind="mask", mode=REFINE)
        if edges:
            result = engine.adjust_edges(result.result_id, edges=edges)
    return np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)


def check_undo(f: dict) -> None:
    assert f["run"]["ok"] is True, f["run"]["message"]
    assert f["changed"]
    assert f["undo_restores"], "one Ctrl+Z must give back the image as it was before the procedure"
    assert f["redo_restores"], "one Ctrl+Y must bring the whole result back"


def canvas_alpha(f: dict, alpha: np.ndarray) -> np.ndarray:
    """The engine's alpha over the source rectangle, placed on an empty canvas."""
    x, y, w, h = f["rect"]
    canvas = np.zeros((H, W), int)
    canvas[y:y + h, x:x + w] = alpha.reshape(h, w)
    return canvas


SELECTIONS = ["rgb8_selection", "rgb16_selection", "f32_selection", "grey_selection", "indexed_selection",
              "offset_selection"]


@pytest.mark.parametrize("name", SELECTIONS)
def test_select_subject_gives_the_engines_matte_as_the_selection(gimp_run, name):
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    assert len(source) == w * h * 4
    expected = direct_select(client, source, w, h)["alpha"]
    got = grey(out, name, "selection", (H, W))
    assert np.abs(got - canvas_alpha(f, expected)).max() <= TOLERANCE  # nothing selected outside the layer
    if name != "grey_selection":  # the test model finds reddish subjects: none in grey
        assert expected.min() < 30 and expected.max() > 225, "a real subject, not a blank matte"
        assert ((got > 10) & (got < 245)).any(), "soft values survive"


def test_the_model_argument_reaches_the_engine(gimp_run):
    """``model`` (the dialog's Model list; a script passes the name) is the model that runs: the selection is
    the chosen model's matte (the ground), not the default's (the disc)."""
    out, client, _ = gimp_run
    with client() as engine:  # before this test's own requests: only GIMP's can have loaded it
        assert {m["name"] for m in engine.models() if m["loaded"]} == {"tiny", CHOSEN_MODEL}
    f = facts(out, "model_selection")
    check_undo(f)
    x, y, w, h = f["rect"]
    source = (out / "model_selection.source.bin").read_bytes()
    chosen = direct_model_select(client, source, w, h, CHOSEN_MODEL)
    default = direct_model_select(client, source, w, h, None)
    got = grey(out, "model_selection", "selection", (H, W))
    assert np.abs(got - canvas_alpha(f, chosen)).max() <= TOLERANCE
    assert np.abs(chosen - default).mean() > 100  # the two models disagree: the choice is what decided


def test_the_engine_gets_the_pixels_gimp_holds(gimp_run):
    """GIMP hands out the layer's pixels as put in: 8-bit exactly, 16-bit and float linear within 1/255.

    ``NAME.source.bin`` is read by the driver the way the plug-in reads; that the plug-in
    sent these very pixels is what the matte comparisons with the engine show.
    """
    out, _, _ = gimp_run
    image, _ = red_disc_image(H, W)
    original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(H, W, 4).astype(int)
    for name, tolerance in (("rgb8_selection", 0), ("rgb16_selection", 1), ("f32_selection", 1)):
        sent = grey(out, name, "source", (H, W, 4))
        assert np.abs(sent - original).max() <= tolerance, name
    g = grey(out, "grey_selection", "source", (H, W, 4))
    assert np.array_equal(g[..., 0], g[..., 1]) and np.array_equal(g[..., 1], g[..., 2])
    indexed = grey(out, "indexed_selection", "source", (H, W, 4))
    assert np.abs(indexed - original).mean() < 4, "an indexed image is read through its palette"


def test_offset_layer_is_clipped_to_the_canvas(gimp_run):
    out, _, _ = gimp_run
    f = facts(out, "offset_selection")
    assert f["rect"] == [0, H - SMALL[1] // 2, SMALL[0] - SMALL[0] // 4, SMALL[1] // 2]
    image, _ = red_disc_image(SMALL[1], SMALL[0])
    original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(SMALL[1], SMALL[0], 4)
    sent = grey(out, "offset_selection", "source", (SMALL[1] // 2, SMALL[0] - SMALL[0] // 4, 4))
    assert np.array_equal(sent, original[: SMALL[1] // 2, SMALL[0] // 4:])


def test_sample_merged_reads_the_visible_image(gimp_run):
    out, client, _ = gimp_run
    f = facts(out, "merged_selection")
    check_undo(f)
    merged = (out / "merged_selection.source.bin").read_bytes()  # GIMP's flattened copy
    expected = direct_select(client, merged, W, H)["alpha"].reshape(H, W).astype(int)
    got = grey(out, "merged_selection", "selection", (H, W))
    assert np.abs(got - expected).max() <= TOLERANCE
    disc, _ = red_disc_image(H, W)
    layer_only = direct_select(client, opaque_rgba8(disc), W, H)["alpha"].reshape(H, W).astype(int)
    assert np.abs(got - layer_only).max() > 20, "the veil changed the result: the merged image was read"


def test_sample_merged_with_several_layers_picked_puts_the_cut_out_on_top(gimp_run):
    out, client, _ = gimp_run
    f = facts(out, "two_layers_merged_cutout")
    check_undo(f)
    assert [(layer["name"], layer["offsets"], layer["size"]) for layer in f["new_layers"]] == [
        ("Softcut cut-out", [0, 0], [W, H])]
    assert f["top_layer"] == "Softcut cut-out"
    merged = (out / "merged_selection.source.bin").read_bytes()  # the same two layers, flattened by GIMP
    expected = direct_select(client, merged, W, H, outputs=("alpha", "foreground"))
    assert np.abs(grey(out, "two_layers_merged_cutout", "layer_mask", (H, W))
                  - expected["alpha"].reshape(H, W)).max() <= TOLERANCE


def test_edge_controls_are_applied(gimp_run):
    out, client, _ = gimp_run
    f = facts(out, "edges_selection")
    check_undo(f)
    source = (out / "edges_selection.source.bin").read_bytes()
    edges = {"feather": 3.0, "contrast": 20.0}
    expected = direct_select(client, source, W, H, edges=edges)["alpha"].reshape(H, W).astype(int)
    got = grey(out, "edges_selection", "selection", (H, W))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert np.abs(got - grey(out, "rgb8_selection", "selection", (H, W))).max() > 20


@pytest.mark.parametrize("name", ["rgb8_mask", "offset_mask", "rgb16_mask", "selection_as_mask", "no_alpha_mask"])
def test_remove_background_adds_the_matte_as_a_layer_mask(gimp_run, name):
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    assert f.get("mask") and not f["new_layers"]
    x, y, w, h = f["rect"]
    expected = direct_select(client, (out / f"{name}.source.bin").read_bytes(), w, h)["alpha"]
    if name == "offset_mask":  # the mask covers the whole layer; outside the canvas it hides
        mask = grey(out, name, "mask", (SMALL[1], SMALL[0]))
        inside = mask[: SMALL[1] // 2, SMALL[0] // 4:]
        assert np.abs(inside - expected.reshape(h, w)).max() <= TOLERANCE
        outside = mask.copy()
        outside[: SMALL[1] // 2, SMALL[0] // 4:] = 0
        assert outside.max() == 0
    else:
        assert np.abs(grey(out, name, "mask", (h, w)) - expected.reshape(h, w)).max() <= TOLERANCE


@pytest.mark.parametrize("name", ["rgb8_layer", "f32_layer", "indexed_layer"])
def test_cut_out_adds_a_layer_with_clean_colours_and_the_matte_as_its_mask(gimp_run, name):
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    assert [(layer["name"], layer["has_mask"]) for layer in f["new_layers"]] == [("Softcut cut-out", True)]
    x, y, w, h = f["rect"]
    assert f["new_layers"][0]["offsets"] == [x, y] and f["new_layers"][0]["size"] == [w, h]
    result = direct_select(client, (out / f"{name}.source.bin").read_bytes(), w, h, outputs=("alpha", "foreground"))
    assert np.abs(grey(out, name, "layer_mask", (h, w)) - result["alpha"].reshape(h, w)).max() <= TOLERANCE
    layer = grey(out, name, "layer", (h, w, 4))
    assert layer[..., 3].min() == 255, "the layer is opaque: its mask holds the alpha"
    tolerance = TOLERANCE if name != "f32_layer" else 1  # 8-bit sRGB → linear float → 8-bit sRGB
    assert np.abs(layer[..., :3] - result["foreground"].reshape(h, w, 3)).max() <= tolerance
    if name == "indexed_layer":  # a palette cannot hold the cleaned colours: RGB now, indexed after undo
        assert f["base"] == 2 and f["base_after"] == 0


@pytest.mark.parametrize("name, edges", [("refine", None), ("refine_edges", {"shift_edge": 30.0})])
def test_refine_selection_turns_a_rough_selection_into_a_soft_one(gimp_run, name, edges):
    out, client, _ = gimp_run
    f = facts(out, name)
    check_undo(f)
    source = (out / f"{name}.source.bin").read_bytes()
    guide = (out / f"{name}.guide.bin").read_bytes()
    assert 0 < np.frombuffer(guide, np.uint8).mean() < 255
    expected = direct_refine(client, source, guide, W, H, edges)
    got = grey(out, name, "selection", (H, W))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert ((got > 10) & (got < 245)).any(), "the refined selection is soft"
    assert np.abs(got - np.frombuffer(guide, np.uint8).reshape(H, W)).max() > 100, "it is not the rough one"


@pytest.mark.parametrize("name, says", [
    ("refine_nothing_selected", "draw a rough selection"),
    ("group_refused", "is a layer group"),
    ("mask_exists", "already has a layer mask"),
    ("two_layers_refused", "2 layers are selected: select one layer, or use Sample merged"),
    ("no_engine", "Start it with `softcut serve`"),
    ("segments_no_engine", "Start it with `softcut serve`"),
    ("engine_dies", "not reachable"),
    ("plate_no_engine", "Start it with `softcut serve`"),
    ("plate_missing", "no clean plate was given: pick the layer (Plate layer) or the file (Or plate file)"),
    ("plate_is_source", "the plate layer “photo” is the layer being cut out"),
    ("plate_file_not_image", "GIMP cannot open the plate file “/tmp/"),
    ("plate_merged_visible", "the plate layer “Clean plate” is visible, so Sample merged would send it"),
])
def test_a_refused_or_failed_call_leaves_the_image_alone(gimp_run, name, says):
    out, _, seen = gimp_run
    f = facts(out, name)
    assert f["run"]["ok"] is False and f["run"]["status"] == "execution-error"
    assert says in f["run"]["message"] and "the image was not changed" in f["run"]["message"]
    assert not f["changed"] and not f["new_layers"]
    if name == "engine_dies":
        assert seen["engine_dies"].get("running"), "the engine was killed while it ran the plug-in's job"


def test_a_plugin_killed_mid_job_leaves_the_image_alone_and_the_engine_drops_the_job(gimp_run):
    out, _, seen = gimp_run
    f = facts(out, "plugin_killed")
    assert f["run"]["ok"] is False and not f["changed"] and not f["new_layers"]
    watched = seen["plugin_killed"]
    assert watched.get("running") and watched.get("idle"), "the job ran, then stopped"
    assert watched["jobs_done"] == 0, "the engine cancelled the job of the client that left"


def test_the_dialog_runs_the_procedure_and_cancel_changes_nothing(gimp_run):
    """Interactive mode: GimpUi's dialog opens, OK (Return) cuts out, Cancel (Escape) leaves the image alone."""
    out, client, _ = gimp_run
    ok = facts(out, "dialog_ok")
    check_undo(ok)
    assert "Geometry:" in (out / "dialog-dialog_ok.txt").read_text(), "the dialog window was shown"
    assert [layer["name"] for layer in ok["new_layers"]] == ["Softcut cut-out"]
    cancelled = facts(out, "dialog_cancel")
    assert "Geometry:" in (out / "dialog-dialog_cancel.txt").read_text()
    assert cancelled["run"]["status"] == "cancel" and not cancelled["changed"]


def test_a_phone_paste_lands_as_one_new_layer_where_the_photo_points(gimp_run):
    out, _client, _seen = gimp_run
    f = facts(out, "phone_paste")
    assert f["run"]["ok"], f["run"]
    assert "error" not in f["phone"], f["phone"]
    assert f["phone"]["status"] == "placed" and f["phone"]["editor"] == "softcut-gimp", f["phone"]
    (layer,) = f["new_layers"]
    assert layer["name"] == "Phone mug" and f["top_layer"] == "Phone mug" and not layer["has_mask"]
    x, y = layer["offsets"]
    w, h = layer["size"]
    assert (x, y) == (f["phone"]["x"], f["phone"]["y"])
    # the disc (32 px across), cropped out of the 64 x 48 photo, centred where the photo points
    assert 32 <= w < PHONE_OBJECT[0] and 32 <= h < PHONE_OBJECT[1]
    assert abs(x + w / 2 - PHONE_CENTRE[0]) <= 6 and abs(y + h / 2 - PHONE_CENTRE[1]) <= 6
    pixels = np.frombuffer((out / "phone_paste.layer.bin").read_bytes(), np.uint8).reshape(h, w, 4)
    middle = pixels[h // 2, w // 2]
    assert middle[0] > 150 and middle[2] < 100 and middle[3] > 200  # red, opaque
    assert pixels[0, 0, 3] < 80  # the blue corner was cut away
    assert f["undo_restores"] and f["redo_restores"]  # one Ctrl+Z takes it out, Ctrl+Y brings it back


def check_segment_group(out, client, name: str, count: int, colour_tolerance: int = TOLERANCE,
                        transparent: bool = False) -> None:
    """One new group "Soft segments" on top: ``count`` layers "Segment 1" (bottom) … with masks, each
    the engine's segment (colours, mask) for the visible image; the group alone shows that image
    (with ``transparent``, through the group's mask holding the image's alpha)."""
    f = facts(out, name)
    check_undo(f)
    (group,) = f["new_layers"]
    assert group["name"] == "Soft segments" and f["top_layer"] == "Soft segments"
    children = group["children"]  # top first
    assert [child["name"] for child in children] == [f"Segment {k}" for k in range(count, 0, -1)]
    for child in children:
        assert child["has_mask"] and child["offsets"] == [0, 0] and child["size"] == [W, H], child
        assert child["mode"] == "normal" and child["composite_space"] == "rgb-perceptual", child
    composite = (out / f"{name}.composite.bin").read_bytes()
    image = np.frombuffer(composite, np.uint8).reshape(H, W, 4).astype(int)
    alone = grey(out, name, "group_alone", (H, W, 4))
    if transparent:
        assert group["has_mask"], "the group's mask holds the image's alpha"
        assert np.array_equal(grey(out, name, "layer_mask", (H, W)), image[..., 3])
        assert np.abs(alone[..., 3] - image[..., 3]).max() <= TOLERANCE
        assert image[..., 3].min() == 0 and (image[..., 3] == 255).mean() > 0.3
    else:
        assert not group["has_mask"], "the visible image is opaque: the group needs no mask"
        assert alone[..., 3].min() == 255, "the group is opaque"
    opaque = image[..., 3] == 255
    assert np.abs(alone[..., :3] - image[..., :3])[opaque].max() <= COMPOSITE_TOLERANCE, \
        "the layers stack back into the image"

    expected = direct_segments(client, composite, W, H, count)
    shown = 0
    for k in range(count):  # segment k is "Segment k+1", child count-1-k
        child = count - 1 - k
        mask = grey(out, name, f"child{child}_mask", (H, W))
        assert np.abs(mask - expected[k][..., 3]).max() <= TOLERANCE, f"segment {k}'s mask"
        colours = grey(out, name, f"child{child}", (H, W, 4))
        assert colours[..., 3].min() == 255, "the layer is opaque: its mask holds the alpha"
        assert np.abs(colours[..., :3] - expected[k][..., :3]).max() <= colour_tolerance, f"segment {k}'s colours"
        shown += bool((mask > 128).any())
    assert shown >= 2, "a real decomposition: more than one layer shows"


def test_soft_segment_layers_stack_back_into_the_visible_image(gimp_run):
    out, client, _ = gimp_run
    check_segment_group(out, client, "segments", SEGMENTS)
    image = grey(out, "segments", "composite", (H, W, 4))
    linear = grey(out, "segments", "group_alone_linear", (H, W, 4))
    assert np.abs(linear[..., :3] - image[..., :3]).max() > COMPOSITE_TOLERANCE, \
        "GIMP's default (linear light) would not give the image back: the perceptual composite space matters"


def test_soft_segment_layers_in_a_linear_float_image(gimp_run):
    """The layers composite in perceptual space whatever the image's precision."""
    out, client, _ = gimp_run
    check_segment_group(out, client, "segments_linear", SEGMENTS, colour_tolerance=1)


def test_soft_segment_layers_of_a_transparent_image_keep_its_alpha_on_the_group(gimp_run):
    out, client, _ = gimp_run
    check_segment_group(out, client, "segments_transparent", SEGMENTS, transparent=True)


def test_soft_segment_layers_from_the_dialog(gimp_run):
    out, client, _ = gimp_run
    assert "Geometry:" in (out / "dialog-segments_dialog.txt").read_text()
    check_segment_group(out, client, "segments_dialog", DIALOG_SEGMENTS)


PW, PH = PLATE_SIZE


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


@pytest.mark.parametrize("name, action", GIMP_SCENARIOS.items(), ids=list(GIMP_SCENARIOS))
def test_each_action_asks_the_engine_what_every_editor_asks(gimp_run, name, action):
    """The requests GIMP sent for the action (recorded on their way to the engine) are the ones
    tests/editor_requests.py gives for it, which the Krita suite checks too."""
    out, _, _ = gimp_run
    f = facts(out, name)
    assert f["run"]["ok"] is True, f["run"]
    assert action_requests(read_log(out / LOG), f["requests"], "softcut-gimp") == editor_requests.expected(action)
