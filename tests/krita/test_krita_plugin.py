"""The Krita plug-in in real Krita (under Xvfb) against a real engine.

One Krita session runs ``scenarios.py`` through a small driver plug-in; the
Softcut plug-in is installed with ``softcut install-plugin krita`` into a
private resource folder. Every result read back from Krita is compared with
what the engine returns when asked directly for the same pixels.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cv2
from conftest import build_tiny_model, red_disc_image, write_sidecar
from editor_files import (ANIMATION_OUTSIDE, ANIMATION_RANGE_END, ANIMATION_TIMES, BIG, CHOSEN_MODEL, PHONE_CENTRE, PHONE_OBJECT, PHONE_PHOTO, PLATE_SIZE, POSTER, REFINE, SIZE, SMALL,
                          TOLERANCE, direct_model_select, direct_plate, direct_segments, direct_video, facts, free_port,
                          grey, opaque_rgba8, write_animation_inputs, write_inputs, write_model_zoo, write_phone_inputs,
                          write_plate_inputs)
import editor_requests
from editor_requests import KRITA_SCENARIOS, LOG, RequestLog, action_requests, read_log
from wire.client import EngineError, SoftcutClient, jpeg_image, png_image, raw_image
from testing.launcher import EngineProcess
from wire.protocol.schemas import DEFAULT_SEGMENTS

HERE = Path(__file__).resolve().parent
W, H = SIZE
PW, PH = PLATE_SIZE
PLATE_CROP = (20, 10, 280, 220)  # (x, y, w, h): the part of the plate in plate_crop.png (a plate of another size)

missing = [tool for tool in ("krita", "xvfb-run") if shutil.which(tool) is None]
if missing and not os.environ.get("CI"):
    pytest.skip(f"needs {' and '.join(missing)} (CI installs them: see .ci/run)", allow_module_level=True)


def write_plate_files(out: Path) -> None:
    """Beside :func:`write_plate_inputs`' files: the plate as files (plate_crop.png: a part of it;
    plate.jpg; plate.bmp, which only Qt decodes)."""
    plate = np.frombuffer((out / "plate.rgba").read_bytes(), np.uint8).reshape(PH, PW, 4)
    bgr = np.ascontiguousarray(plate[..., 2::-1])
    x, y, w, h = PLATE_CROP
    cv2.imwrite(str(out / "plate_crop.png"), np.ascontiguousarray(bgr[y:y + h, x:x + w]))
    cv2.imwrite(str(out / "plate.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(str(out / "plate.bmp"), bgr)


def _start_krita(env: dict, out: Path, *, attempts: int = 2, startup: float = 240.0) -> subprocess.Popen:
    """Krita under Xvfb, started again (once) when it hangs in its own start-up before any plug-in
    runs (seen on a loaded CI machine: no canvas, no driver, idle): the driver marks ``driver_started``."""
    for attempt in range(attempts):
        krita = subprocess.Popen(["xvfb-run", "-a", "krita", "--nosplash"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.monotonic() + startup
        while time.monotonic() < deadline and krita.poll() is None and not (out / "driver_started").exists():
            time.sleep(1.0)
        if (out / "driver_started").exists() or krita.poll() is not None or attempt == attempts - 1:
            return krita
        os.killpg(krita.pid, signal.SIGKILL)  # hung before the driver: xvfb-run, Xvfb and Krita together
        krita.communicate()
    return krita


@pytest.fixture(scope="module")
def krita_run(tmp_path_factory):
    """Run every scenario in one Krita session; yields (OUT folder, engine client factory)."""
    tmp = tmp_path_factory.mktemp("krita")
    model = build_tiny_model(tmp / "tiny.onnx")
    write_sidecar(model)
    config = tmp / "config"
    with pytest.MonkeyPatch.context() as env:  # the engine finds the chosen model's stand-in in rembg's folder
        env.setenv("U2NET_HOME", str(write_model_zoo(tmp / "u2net")))
        engine = EngineProcess(config, model, "--device", "cpu", home=tmp / "home", timeout=60)
    doomed = EngineProcess(config, model, "--device", "cpu", home=tmp / "home", timeout=60)
    lan = EngineProcess(config, model, "--device", "cpu", "--lan", home=tmp / "home", timeout=60)
    out = tmp / "out"
    out.mkdir()
    write_inputs(out, veil_alpha=90)
    write_phone_inputs(out)
    write_plate_inputs(out)
    write_plate_files(out)
    write_animation_inputs(out)
    relay = RequestLog(engine.port, out / LOG)  # Krita talks to the engine through it: what each action asks
    spec = {"port": relay.port, "token": engine.token, "refine": REFINE, "width": W, "height": H,
            "poster_size": list(POSTER), "photo_side": PHONE_PHOTO, "object_size": list(PHONE_OBJECT),
            "offset_size": list(SMALL), "big_size": list(BIG), "dead_port": free_port(),
            "kill_port": doomed.port, "kill_pid": doomed.proc.pid, "lan_port": lan.port,
            "plate_size": list(PLATE_SIZE), "animation_times": list(ANIMATION_TIMES),
            "animation_outside": ANIMATION_OUTSIDE, "animation_end": ANIMATION_RANGE_END, "chosen_model": CHOSEN_MODEL}
    (out / "spec.json").write_text(json.dumps(spec))

    data, xdg_config, home = tmp / "xdg-data", tmp / "xdg-config", tmp / "home-dir"
    home.mkdir()
    # Krita's embedded Python must not see this virtualenv (its bin on PATH, VIRTUAL_ENV): with an
    # activated venv Krita hung before the plug-ins ran.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if Path(p).resolve() != Path(sys.executable).parent.resolve())
    env = {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, "PATH": path, "XDG_DATA_HOME": str(data), "XDG_CONFIG_HOME": str(xdg_config), "HOME": str(home),
           "SOFTCUT_CONFIG": str(config), "SOFTCUT_KRITA_OUT": str(out),
           "SOFTCUT_KRITA_SCENARIOS": str(HERE / "scenarios.py")}
    # The plug-in goes in through the user's command; the driver beside it.
    installed = subprocess.run([sys.executable, "-m", "softcut_app.cli", "install-plugin", "krita"],
                               env=env, capture_output=True, text=True, timeout=60)
    assert installed.returncode == 0, installed.stderr
    pykrita = data / "krita" / "pykrita"
    shutil.copytree(HERE / "driver" / "softcut_krita_test", pykrita / "softcut_krita_test")
    shutil.copy(HERE / "driver" / "softcut_krita_test.desktop", pykrita)
    with open(xdg_config / "kritarc", "a") as rc:
        rc.write("enable_softcut_krita_test=true\n")
    try:
        krita = _start_krita(env, out)
        try:
            log, _ = krita.communicate(timeout=900)  # a guard against a hang; the machine may be busy
        except subprocess.TimeoutExpired:
            os.killpg(krita.pid, signal.SIGKILL)  # xvfb-run, Xvfb and Krita together
            log, _ = krita.communicate()
        if (out / "driver_error.txt").exists() or not (out / "done").exists():
            error = (out / "driver_error.txt").read_text() if (out / "driver_error.txt").exists() else ""
            pytest.fail(f"the Krita session did not finish:\n{error}\n{log[-3000:]}")

        def client() -> SoftcutClient:
            return SoftcutClient(port=engine.port, token=engine.token, timeout=120)

        yield out, client
    finally:
        relay.close()
        engine.stop()
        doomed.stop()
        lan.stop()


def direct_select(client, source: bytes, w: int, h: int, outputs=("alpha",), edges=None):
    with client() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", source), outputs=list(outputs), refine=REFINE)
        if edges:
            result = engine.adjust_edges(result.result_id, edges=edges, outputs=list(outputs))
    return result


def check_untouched(f: dict, says: str) -> None:
    """A run that changed nothing: its message holds ``says`` and ends saying so; no undo step."""
    message = f["run"]["message"]
    assert says in message and message.endswith("the document was not changed"), message
    assert f["unchanged"] and f["undo_steps_added"] == 0


def check_common(f: dict) -> None:
    assert f["run"]["ok"] is True, f["run"]["message"]
    assert f["undo_steps_added"] == 1, "one action must be one undo step"
    assert f["undo_restores"], "undo must give back the document as it was"
    assert f["run"]["busy_after_trigger"], "the action returns to Krita while the engine works"


SELECTIONS = ["rgba8_selection", "rgba_u16_selection", "rgba_f32_selection", "graya_u8_selection",
              "offset_selection", "merged_selection"]


@pytest.mark.parametrize("name", SELECTIONS + ["rgba8_mask", "offset_mask"])
def test_action_matches_the_engine(krita_run, name):
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    assert len(source) == w * h * 4
    expected = np.frombuffer(direct_select(client, source, w, h).buffers["alpha"], np.uint8).reshape(h, w)
    got = grey(out, name, "alpha", (h, w))
    assert np.abs(got - expected.astype(int)).max() <= TOLERANCE
    if f.get("model") != "GRAYA":  # the test model finds reddish subjects: none in grey
        assert expected.min() < 30 and expected.max() > 225  # a real subject, not a blank matte


def test_the_model_picked_in_the_docker_reaches_the_engine(krita_run):
    """The docker lists the engine's models (the default first; absent ones greyed); the one picked there
    runs: the selection is the chosen model's matte (the ground), not the default's (the disc)."""
    out, client = krita_run
    f = facts(out, "model_choice")
    check_common(f)
    offered = dict(map(tuple, f["offered"]))
    assert f["offered"][0] == ["tiny", True] and offered[CHOSEN_MODEL] is True
    assert offered["birefnet-general"] is False  # absent: shown, not selectable
    assert f["requested"] == CHOSEN_MODEL
    with client() as engine:  # before this test's own requests: only Krita's can have loaded it
        assert {m["name"] for m in engine.models() if m["loaded"]} == {"tiny", CHOSEN_MODEL}
    x, y, w, h = f["rect"]
    source = (out / "model_choice.source.bin").read_bytes()
    got = grey(out, "model_choice", "alpha", (h, w))
    chosen = direct_model_select(client, source, w, h, CHOSEN_MODEL)
    default = direct_model_select(client, source, w, h, None)
    assert np.abs(got - chosen).max() <= TOLERANCE
    assert np.abs(chosen - default).mean() > 100  # the two models disagree: the choice is what decided


@pytest.mark.parametrize("name", ["rgba8_selection", "offset_selection"])
def test_the_engine_gets_the_pixels_krita_holds(krita_run, name):
    """8-bit layers reach the engine exactly; an offset layer is clipped to the canvas."""
    out, _ = krita_run
    f = facts(out, name)
    x, y, w, h = f["rect"]
    sent = np.frombuffer((out / f"{name}.source.bin").read_bytes(), np.uint8).reshape(h, w, 4)
    if name == "offset_selection":
        assert [x, y, w, h] == [0, H - SMALL[1] // 2, SMALL[0] - SMALL[0] // 4, SMALL[1] // 2]
        image, _ = red_disc_image(SMALL[1], SMALL[0])
        original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(SMALL[1], SMALL[0], 4)
        original = original[: SMALL[1] // 2, SMALL[0] // 4:]
    else:
        image, _ = red_disc_image(H, W)
        original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(H, W, 4)
    assert np.array_equal(sent, original)


@pytest.mark.parametrize("name", ["rgba_u16_selection", "rgba_f32_selection"])
def test_linear_16_bit_and_float_documents_are_converted_to_srgb(krita_run, name):
    out, _ = krita_run
    assert "g10" in facts(out, name)["profile"]  # Krita's default for these depths is linear light
    image, _ = red_disc_image(H, W)
    original = np.frombuffer(opaque_rgba8(image), np.uint8).reshape(H, W, 4).astype(int)
    sent = np.frombuffer((out / f"{name}.source.bin").read_bytes(), np.uint8).reshape(H, W, 4)
    assert np.abs(sent.astype(int) - original).max() <= 1


def test_grey_documents_are_sent_as_grey(krita_run):
    out, _ = krita_run
    g = np.frombuffer((out / "graya_u8_selection.source.bin").read_bytes(), np.uint8).reshape(H, W, 4)
    assert np.array_equal(g[..., 0], g[..., 1]) and np.array_equal(g[..., 1], g[..., 2])


def test_selection_outside_the_layer_is_empty(krita_run):
    out, _ = krita_run
    canvas = grey(out, "offset_selection", "canvas_selection", (H, W))
    x, y, w, h = facts(out, "offset_selection")["rect"]
    outside = canvas.copy()
    outside[y:y + h, x:x + w] = 0
    assert outside.max() == 0


@pytest.mark.parametrize("name", ["rgba8_layer", "rgba_u16_layer", "rgba_f32_layer"])
def test_cut_out_layer_holds_the_decontaminated_foreground_and_its_mask(krita_run, name):
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    assert [a[1] for a in f["added"]] == ["paintlayer", "transparencymask"]
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    result = direct_select(client, source, w, h, outputs=("alpha", "foreground"))
    alpha = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)
    assert np.abs(grey(out, name, "alpha", (h, w)) - alpha).max() <= TOLERANCE
    fg = np.frombuffer(result.buffers["foreground"], np.uint8).reshape(h, w, 3).astype(int)
    layer = (out / f"{name}.layer.bin").read_bytes()
    if f["depth"] == "U8":
        bgra = np.frombuffer(layer, np.uint8).reshape(h, w, 4).astype(int)
        rgb, a = bgra[..., [2, 1, 0]], bgra[..., 3]
    else:  # U16 (B, G, R, A) or F32 (R, G, B, A), in linear light: back to sRGB
        assert "g10" in f["profile"]
        if f["depth"] == "U16":
            rgba = np.frombuffer(layer, "<u2").reshape(h, w, 4)[..., [2, 1, 0, 3]].astype(float) / 65535
        else:
            rgba = np.frombuffer(layer, "<f4").reshape(h, w, 4).astype(float)
        lin = np.clip(rgba[..., :3], 0, 1)
        srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
        rgb, a = np.rint(srgb * 255).astype(int), np.rint(rgba[..., 3] * 255).astype(int)
    assert a.min() == 255, "the layer is opaque: its mask holds the alpha"
    tolerance = TOLERANCE if f["depth"] == "U8" else 2  # 8-bit sRGB → linear → 8-bit sRGB
    assert np.abs(rgb - fg).max() <= tolerance


@pytest.mark.parametrize("name, edges", [("rgba8_selection", {"feather": 3.0}), ("rgba8_mask", {"contrast": 50.0})])
def test_live_edge_sliders_rewrite_the_result_in_place(krita_run, name, edges):
    out, client = krita_run
    f = facts(out, name)
    assert f["live"]["ok"] is True, f["live"]["message"]
    assert f["live_undo_steps"] == 1, "live edits stay inside the action's one undo step"
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    expected = np.frombuffer(direct_select(client, source, w, h, edges=edges).buffers["alpha"], np.uint8)
    got = grey(out, name, "live_alpha", (h, w))
    assert np.abs(got - expected.reshape(h, w).astype(int)).max() <= TOLERANCE
    assert np.abs(got - grey(out, name, "alpha", (h, w))).max() > 20  # the sliders did change it


@pytest.mark.parametrize("name, edges", [("refine", None), ("refine_edges", {"shift_edge": 30.0})])
def test_refine_selection(krita_run, name, edges):
    """The menu's Refine Selection (no edge control: ``refine`` alone); with the docker's edge controls,
    ``refine`` then ``adjust_edges`` on its result, as GIMP and the Photoshop panel do."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    x, y, w, h = f["rect"]
    source = (out / f"{name}.source.bin").read_bytes()
    guide = (out / f"{name}.guide.bin").read_bytes()
    with client() as engine:
        result = engine.refine(raw_image(w, h, "rgba8", source), raw_image(w, h, "grey8", guide, name="guide"),
                               guide_kind="mask", mode=REFINE)
        plain = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)
        if edges:
            result = engine.adjust_edges(result.result_id, edges=edges)
    want = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)
    got = grey(out, name, "alpha", (H, W))[y:y + h, x:x + w]
    assert np.abs(got - want).max() <= TOLERANCE
    assert ((got > 0) & (got < 255)).any(), "the refined selection is soft"
    if edges:
        assert np.abs(got - plain).max() > 20, "the edge control changed the refined selection"


def test_refine_selection_of_a_blank_selection_is_refused_before_any_request(krita_run):
    out, _ = krita_run
    f = facts(out, "refine_nothing_selected")
    check_untouched(f, "draw a rough selection around the subject first")
    assert f["run"]["ok"] is not True and not f["run"]["busy_after_trigger"] and not f["stages"]


def test_select_subject_with_edge_controls(krita_run):
    """The docker's edge controls at Select Subject go with the request (as GIMP's procedure arguments do)."""
    out, client = krita_run
    f = facts(out, "edges_selection")
    check_common(f)
    x, y, w, h = f["rect"]
    source = (out / "edges_selection.source.bin").read_bytes()
    with client() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", source), refine=REFINE,
                                       edges={"feather": 3.0, "contrast": 20.0})
    want = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)
    got = grey(out, "edges_selection", "alpha", (h, w))
    assert np.abs(got - want).max() <= TOLERANCE
    assert np.abs(got - grey(out, "rgba8_selection", "alpha", (h, w))).max() > 20, "the edge controls changed it"


@pytest.mark.parametrize("name, action", KRITA_SCENARIOS.items(), ids=list(KRITA_SCENARIOS))
def test_each_action_asks_the_engine_what_every_editor_asks(krita_run, name, action):
    """The requests Krita sent for the action (recorded on their way to the engine) are the ones
    tests/editor_requests.py gives for it, which the GIMP suite checks too."""
    out, _ = krita_run
    f = facts(out, name)
    assert action_requests(read_log(out / LOG), f["requests"], "softcut-krita") == editor_requests.expected(action)


def test_actions_sit_in_their_menus_and_the_docker_exists(krita_run):
    out, _ = krita_run
    ui = facts(out, "ui")
    selecting = {"softcut_select_subject", "softcut_remove_background", "softcut_cut_out", "softcut_refine_selection",
                 "softcut_select_subject_plate", "softcut_select_subject_animation"}
    assert set(ui["menus"]) == selecting | {"softcut_soft_segments"}
    for action_id, titles in ui["menus"].items():
        assert ("Select" if action_id in selecting else "Scripts") in titles, (action_id, titles)
    assert ui["dockers"] == ["Softcut"]


SEGMENTS = 3  # the count scenarios.py answers the menu's dialog with
SEGMENT_TOLERANCE = 6  # /255: the group's composite (8-bit colours under 8-bit masks, blended) against the image


def test_soft_segment_layers_make_one_group_that_looks_like_the_image(krita_run):
    out, client = krita_run
    f = facts(out, "segments")
    check_common(f)
    assert f["dialog_offered"] == [DEFAULT_SEGMENTS], "the menu's dialog offers the docker's count (the default)"
    assert f["docker_count"] == SEGMENTS, "the dialog's answer becomes the docker's count"
    assert f["top"] == ["Soft segments", "grouplayer"]
    assert f["layers"] == [[f"Segment {k + 1}", "paintlayer", [[f"Segment {k + 1} mask", "transparencymask"]]]
                           for k in range(SEGMENTS)]
    assert len(f["added"]) == 1 + 2 * SEGMENTS, "nothing else is added"
    x, y, w, h = f["rect"]
    assert [x, y, w, h] == [0, 0, W, H], "the merged image is sent"
    source = grey(out, "segments", "source", (h, w, 4))
    for what in ("group", "merged"):
        bgra = grey(out, "segments", what, (h, w, 4))
        assert np.abs(bgra[..., [2, 1, 0]] - source[..., :3]).max() <= SEGMENT_TOLERANCE, what
        assert bgra[..., 3].min() == 255, what
    assert f["redo_merged_same"], "redo brings the group back, rendered"


def test_soft_segment_layers_without_a_layer_to_lend_a_mask_carry_it_as_their_alpha(krita_run):
    """From the docker, count 2, on a document whose layers are all at opacity 250 (none can lend a mask)."""
    out, client = krita_run
    f = facts(out, "segments_unmasked")
    check_common(f)
    assert f["docker_count_before"] == SEGMENTS and f["dialog_offered"] == []
    assert f["top"] == ["Soft segments", "grouplayer"]
    assert f["layers"] == [["Segment 1", "paintlayer", []], ["Segment 2", "paintlayer", []]]
    x, y, w, h = f["rect"]
    source = (out / "segments_unmasked.source.bin").read_bytes()
    for k, expected in enumerate(direct_segments(client, source, w, h, 2)):
        layer = grey(out, "segments_unmasked", f"layer{k}", (h, w, 4))
        assert np.abs(layer[..., [2, 1, 0, 3]] - expected).max() <= TOLERANCE
    rgb = grey(out, "segments_unmasked", "source", (h, w, 4))[..., :3]
    merged = grey(out, "segments_unmasked", "merged", (h, w, 4))
    assert np.abs(merged[..., [2, 1, 0]] - rgb).max() <= SEGMENT_TOLERANCE
    assert f["redo_merged_same"]


def test_soft_segment_layers_hold_what_the_engine_returns(krita_run):
    out, client = krita_run
    f = facts(out, "segments")
    x, y, w, h = f["rect"]
    source = (out / "segments.source.bin").read_bytes()
    masks = []
    for k, expected in enumerate(direct_segments(client, source, w, h, SEGMENTS)):
        layer = grey(out, "segments", f"layer{k}", (h, w, 4))
        assert layer[..., 3].min() == 255, "the layer is opaque: its mask holds the alpha"
        assert np.abs(layer[..., [2, 1, 0]] - expected[..., :3]).max() <= TOLERANCE
        mask = grey(out, "segments", f"mask{k}", (h, w))
        assert np.abs(mask - expected[..., 3]).max() <= TOLERANCE
        masks.append(mask)
    assert all(m.max() > 200 for m in masks[1:]), "each layer holds a real part of the image"


def test_krita_keeps_running_during_a_job(krita_run):
    """A 2 MP Select Subject: the action returns at once and a 10 ms timer keeps firing until the result."""
    out, _ = krita_run
    run = facts(out, "responsive")["run"]
    assert run["ok"] is True, run["message"]
    assert run["busy_after_trigger"]
    assert run["ticks_while_waiting"] >= 10


@pytest.mark.parametrize("name, says", [
    ("cancel", "cancelled"),
    ("no_engine", "Start it with `softcut serve`"),
    ("segments_no_engine", "Start it with `softcut serve`"),
    ("engine_dies", "not reachable"),
])
def test_a_failed_request_leaves_the_document_alone(krita_run, name, says):
    out, _ = krita_run
    f = facts(out, name)
    assert f["run"]["ok"] is False
    check_untouched(f, says)
    if not name.endswith("no_engine"):
        assert f["stages"], "the job had started before it was stopped"


def test_a_phone_paste_lands_as_one_new_layer_where_the_photo_points(krita_run):
    out, _ = krita_run
    f = facts(out, "phone")
    assert "error" not in f["phone"], f["phone"]
    assert f["phone"]["status"] == "placed", f["phone"]
    assert f["phone"]["editor"] == "softcut-krita"
    (added,) = f["added"]  # one new node, at the top of the stack
    name, kind, x, y, w, h = added
    assert (name, kind) == ("Phone mug", "paintlayer") and f["top"] == "Phone mug"
    # Krita's bounds leave out the cut-out's fully transparent margin (2 px)
    assert 0 <= x - f["phone"]["x"] <= 3 and 0 <= y - f["phone"]["y"] <= 3
    # the disc (32 px across), cropped out of the 64 x 48 photo, centred where the photo points
    assert 28 <= w < PHONE_OBJECT[0] and 28 <= h < PHONE_OBJECT[1]
    assert abs(x + w / 2 - PHONE_CENTRE[0]) <= 6 and abs(y + h / 2 - PHONE_CENTRE[1]) <= 6
    layer = np.frombuffer((out / "phone.layer.bin").read_bytes(), np.uint8).reshape(h, w, 4)  # B, G, R, A
    middle = layer[h // 2, w // 2]
    assert middle[2] > 150 and middle[0] < 100 and middle[3] > 200  # red, opaque
    assert layer[0, 0, 3] < 80  # the blue corner was cut away
    assert f["undo_steps"] == 1 and f["undo_restores"] is True


def test_the_docker_shows_the_phone_link_or_says_to_start_the_engine_on_the_lan(krita_run):
    out, _ = krita_run
    f = facts(out, "phone_link")
    assert f["no_lan"]["ok"] is False and "softcut serve --lan" in f["no_lan"]["message"]
    assert f["lan"]["ok"] is True and f["lan"]["message"].startswith("scan the code")
    assert f["qr_visible"] and f["qr_size"] == [180, 180]
    assert re.fullmatch(r"http://[\d.]+:\d+/phone#t=[\w-]{20,}", f["url"]), f["url"]


# ── Select Subject with Clean Plate ──────────────────────────────────────────


def plate_alpha(result, w: int, h: int) -> np.ndarray:
    return np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)


def read_plate(out: Path) -> bytes:
    return (out / "plate.rgba").read_bytes()


def test_clean_plate_selection_matches_the_engine_with_the_hidden_plate_layer(krita_run):
    out, client = krita_run
    f = facts(out, "plate_selection")
    check_common(f)
    assert f["offered"] == {"layers": ["Clean plate (hidden)", "Background"], "layer": "Clean plate (hidden)",
                            "by_layer": True, "layer_enabled": True, "output": "selection", "note": "", "path": "",
                            "ok_enabled": True}, "the layer named plate, the first output"
    assert f["kept_unchanged"], "the image and plate layers are untouched"
    assert f["rect"] == [0, 0, PW, PH]
    source = (out / "plate_selection.source.bin").read_bytes()
    assert source == (out / "scene.rgba").read_bytes(), "the image sent is the active layer, as Select Subject's"
    expected = plate_alpha(direct_plate(client, source, read_plate(out), PW, PH), PW, PH)
    got = grey(out, "plate_selection", "alpha", (PH, PW))
    assert np.abs(got - expected).max() <= TOLERANCE
    plain = plate_alpha(direct_select(client, source, PW, PH), PW, PH)
    assert np.abs(got - plain).mean() > 20, "the plate changed the answer: it is not plain Select Subject"
    assert f["run"]["message"].startswith("subject selected with the clean plate (")


def test_clean_plate_live_edges_rewrite_the_result(krita_run):
    out, client = krita_run
    f = facts(out, "plate_selection")
    assert f["live"]["ok"] is True, f["live"]["message"]
    assert f["live_undo_steps"] == 1
    source = (out / "plate_selection.source.bin").read_bytes()
    expected = plate_alpha(direct_plate(client, source, read_plate(out), PW, PH, edges={"feather": 3.0}), PW, PH)
    got = grey(out, "plate_selection", "live_alpha", (PH, PW))
    assert np.abs(got - expected).max() <= TOLERANCE
    assert np.abs(got - grey(out, "plate_selection", "alpha", (PH, PW))).max() > 20


@pytest.mark.parametrize("name", ["plate_mask", "plate_layer"])
def test_clean_plate_mask_and_cut_out_layer_match_the_engine(krita_run, name):
    """The mask through the menu (output chosen in the dialog), the cut-out layer through the docker's button."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    assert f["kept_unchanged"]
    assert f["offered"]["layer"] == "Clean plate (hidden)"
    if name == "plate_mask":
        assert f["offered"]["output"] == "selection", "the first output offered"
        assert f["added"] == [["Softcut subject", "transparencymask", "subject"]]
    else:
        assert f["offered"]["output"] == "layer", "the docker's output is offered"
        assert [a[1] for a in f["added"]] == ["paintlayer", "transparencymask"]
    source = (out / f"{name}.source.bin").read_bytes()
    outputs = ("alpha", "foreground") if name == "plate_layer" else ("alpha",)
    result = direct_plate(client, source, read_plate(out), PW, PH, outputs=outputs)
    assert np.abs(grey(out, name, "alpha", (PH, PW)) - plate_alpha(result, PW, PH)).max() <= TOLERANCE
    if name == "plate_layer":
        bgra = grey(out, name, "layer", (PH, PW, 4))
        fg = np.frombuffer(result.buffers["foreground"], np.uint8).reshape(PH, PW, 3).astype(int)
        assert bgra[..., 3].min() == 255
        assert np.abs(bgra[..., [2, 1, 0]] - fg).max() <= TOLERANCE


def test_the_dialog_offers_the_layer_below_the_active_one_or_one_named_plate(krita_run):
    out, _ = krita_run
    f = facts(out, "plate_choice")
    assert f["below"]["active"] == "photo"
    assert f["below"]["offered"]["layers"] == ["sky", "ground", "Background"], "the other paint layers, top first"
    assert f["below"]["offered"]["layer"] == "ground", "just below the active layer"
    assert f["named"]["offered"]["layer"] == "Old PLATE shot", "a layer named plate (any case) comes first"
    for case in f.values():
        assert case["run"]["ok"] is None and not case["run"]["busy_after_trigger"], "cancelled: no request"
        assert case["unchanged"] and case["undo_steps_added"] == 0


def test_without_another_layer_the_dialog_offers_a_file(krita_run):
    out, _ = krita_run
    offered = facts(out, "plate_alone")["offered"]
    assert offered["layers"] == [] and not offered["layer_enabled"] and not offered["by_layer"]
    assert "no other paint layer" in offered["note"]
    assert offered["path"].endswith("plate_crop.png"), "the last plate file is remembered"


@pytest.mark.parametrize("name", ["plate_file_png", "plate_file_jpeg", "plate_file_bmp"])
def test_a_clean_plate_from_a_file(krita_run, name):
    """PNG (a part of the plate: another size) through the dialog; JPEG as it is; BMP decoded by Qt."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    assert f["kept_unchanged"]
    source = (out / f"{name}.source.bin").read_bytes()
    image = raw_image(PW, PH, "rgba8", source)
    plate = {"plate_file_png": lambda: png_image((out / "plate_crop.png").read_bytes(), name="plate"),
             "plate_file_jpeg": lambda: jpeg_image((out / "plate.jpg").read_bytes(), name="plate"),
             "plate_file_bmp": lambda: raw_image(PW, PH, "rgba8", read_plate(out), name="plate")}[name]()
    with client() as engine:
        expected = plate_alpha(engine.plate_matte(image, plate, refine=REFINE), PW, PH)
    assert np.abs(grey(out, name, "alpha", (PH, PW)) - expected).max() <= TOLERANCE
    if name == "plate_file_png":
        assert f["offered"]["layers"] == ["Background"]
        assert f["run"]["message"].startswith("subject selected with the clean plate")
    elif name == "plate_file_jpeg":
        assert [a[1] for a in f["added"]] == ["transparencymask"]


def test_an_offset_image_layer_is_sent_clipped_and_the_plate_layer_whole(krita_run):
    out, client = krita_run
    f = facts(out, "plate_offset")
    check_common(f)
    assert f["kept_unchanged"]
    assert f["rect"] == [0, 30, PW - 40, PH - 30]
    scene = np.frombuffer((out / "scene.rgba").read_bytes(), np.uint8).reshape(PH, PW, 4)
    source = (out / "plate_offset.source.bin").read_bytes()
    assert source == np.ascontiguousarray(scene[:PH - 30, 40:]).tobytes()
    with client() as engine:
        result = engine.plate_matte(raw_image(PW - 40, PH - 30, "rgba8", source),
                                    raw_image(PW, PH, "rgba8", read_plate(out), name="plate"), refine=REFINE)
    got = grey(out, "plate_offset", "alpha", (PH - 30, PW - 40))
    assert np.abs(got - plate_alpha(result, PW - 40, PH - 30)).max() <= TOLERANCE


def alignment_message(out: Path, client) -> str:
    """What the engine says of the other scene's plate, asked directly."""
    other = (out / "other.rgba").read_bytes()
    with pytest.raises(EngineError) as failed:
        direct_plate(client, (out / "scene.rgba").read_bytes(), other, PW, PH)
    assert failed.value.code == "alignment_failed"
    return failed.value.message.rstrip(". ")


@pytest.mark.parametrize("name, says", [
    ("plate_other_scene", None),
    ("plate_other_scene_file", None),
    ("plate_other_scene_menu", None),
    ("plate_no_engine", "Start it with `softcut serve`"),
    ("plate_none", "no clean plate was chosen"),
    ("plate_is_image", "'subject' is the image Softcut cuts the subject from"),
    ("plate_missing_file", "'no such plate.png' cannot be read"),
    ("plate_not_an_image", "'notes.txt' is not an image"),
])
def test_a_clean_plate_that_cannot_be_used_leaves_the_document_alone(krita_run, name, says):
    out, client = krita_run
    f = facts(out, name)
    check_untouched(f, says or alignment_message(out, client))
    assert f["run"]["ok"] is not True
    if name.startswith("plate_other_scene"):
        assert f["run"]["ok"] is False and f["stages"], "the engine was asked"
    elif name != "plate_no_engine":
        assert not f["run"]["busy_after_trigger"] and not f["stages"], "said before any request"
    if name == "plate_other_scene_menu":
        assert f["offered"]["layer"] == "other scene"


# -- Select Subject in Animation ---------------------------------------------------------------------


def animation_frames(out: Path, name: str) -> list:
    """The source layer's keyframes in the playback range (rgba8 bytes, in time order): the input files
    anim0.rgba ..., checked to be what Krita held at those times."""
    frames = [(out / f"anim{k}.rgba").read_bytes() for k in range(len(ANIMATION_TIMES))]
    for t, frame in zip(ANIMATION_TIMES, frames):
        bgra = np.frombuffer((out / f"{name}.source{t}.bin").read_bytes(), np.uint8).reshape(H, W, 4)
        assert np.ascontiguousarray(bgra[..., [2, 1, 0, 3]]).tobytes() == frame, f"Krita's keyframe {t}"
    return frames


@pytest.mark.parametrize("name", ["animation_mask", "animation_layer"])
def test_select_subject_in_animation_matches_the_engine_at_every_keyframe(krita_run, name):
    """Keyframes at ANIMATION_TIMES (in the range 0 to ANIMATION_RANGE_END) and at ANIMATION_OUTSIDE (past
    it): the mask holds each keyframe's matte of the engine's video stream in the range, 255 outside it; the
    new layer each keyframe's cut-out in the range, nothing outside it. One undo step."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    every = [*ANIMATION_TIMES, ANIMATION_OUTSIDE]
    assert f["source_keys"] == every
    assert f["ranges_before"] == [0, ANIMATION_RANGE_END] * 2, "Start, End and the playback range"
    assert f["ranges_after"] == f["ranges_after_undo"] == f["ranges_before"], "Start and End are kept"
    assert f"cut out of {len(ANIMATION_TIMES)} keyframes of" in f["run"]["message"], "the keyframes in the range only"
    assert f["keys"] == every, "the result's keyframes are the layer's"
    assert f["animated"] is True
    assert f["source_untouched"] and f["source_untouched_after_undo"], "the layer's pixels are not changed"
    assert f["time_after"] == f["time_before"], "the current frame is given back"
    frames = animation_frames(out, name)
    assert len({hash(frame) for frame in frames}) == len(frames), "the keyframes differ"
    if name == "animation_mask":
        assert f["added"] == [["Softcut subject (animated)", "transparencymask", f["layer"]]]
        expected = direct_video(client, frames, W, H, "alpha")
        for t, matte in zip(ANIMATION_TIMES, expected):
            assert np.abs(grey(out, name, f"result{t}", (H, W)) - matte).max() <= TOLERANCE, t
            assert matte.min() < 30 and matte.max() > 225
        assert grey(out, name, f"result{ANIMATION_OUTSIDE}", (H, W)).min() == 255, "outside the range: nothing masked"
    else:
        assert f["offered"] == {"output": "mask", "quality": "fast"}, "the dialog offers the mask first"
        assert [a[:2] for a in f["added"]] == [["Softcut cut-out (animated)", "paintlayer"]]
        expected = direct_video(client, frames, W, H, "cutout")
        for t, cutout in zip(ANIMATION_TIMES, expected):
            got = grey(out, name, f"result{t}", (H, W, 4))[..., [2, 1, 0, 3]]
            assert np.abs(got - cutout).max() <= TOLERANCE, t
            assert cutout[..., 3].min() < 30 and cutout[..., 3].max() > 225
        assert grey(out, name, f"result{ANIMATION_OUTSIDE}", (H, W, 4))[..., 3].max() == 0, "outside the range: empty"


@pytest.mark.parametrize("name, says", [
    ("animation_no_engine", "Start it with `softcut serve`"),
    ("animation_cancel", "cancelled"),
    ("animation_still", "is not animated (it holds one still image): use Select Subject (Softcut)"),
    ("animation_out_of_range", "has no keyframe in the playback range (frames 20 to 30)"),
])
def test_select_subject_in_animation_that_fails_leaves_the_document_alone(krita_run, name, says):
    out, _ = krita_run
    f = facts(out, name)
    assert f["run"]["ok"] is not True
    check_untouched(f, says)
    if name == "animation_cancel":
        assert f["stages"][0] == "frame 1 of 8" and len(f["stages"]) < 8, "cancelled mid-way"
    elif name != "animation_no_engine":
        assert not f["run"]["busy_after_trigger"] and not f["stages"], "said before any request"


def test_select_subject_in_animation_lets_its_frame_feeds_go(krita_run):
    """Each run's frame feed (and the frames it still held) is released when the run ends, done or not."""
    out, _ = krita_run
    assert facts(out, "animation_feeds")["left"] == 0
