"""The one real Krita session the Krita tests share (the body of conftest.py's ``krita_run``).

Real engines start here (one that answers, one killed mid-job, one on the LAN); the input files
go to an OUT folder; the Softcut plug-in is installed with ``softcut install-plugin krita`` into
a private resource folder, a small driver plug-in beside it; Krita (under Xvfb) then runs
``scenarios.py``, which writes what it reads back to OUT for the tests to compare with what the
engine answers when asked directly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from editor_files import (
    ADD_ROUGH,
    ANIMATION_OUTSIDE,
    ANIMATION_RANGE_END,
    ANIMATION_TIMES,
    BIG,
    CHOSEN_MODEL,
    ENGINE_ENV,
    OBJECT_BOX,
    OBJECT_CLICKS,
    PHONE_OBJECT,
    PHONE_PHOTO,
    PLATE_SIZE,
    POSTER,
    REFINE,
    SEGMENTS_SIZE,
    SIZE,
    SMALL,
    SUBTRACT_ROUGH,
    note_timings,
    write_animation_inputs,
    write_inputs,
    write_model_zoo,
    write_object_inputs,
    write_phone_inputs,
    write_plate_inputs,
)
from editor_requests import LOG, RequestLog
from tiny_models import build_tiny_model, write_sidecar

from testing.launcher import EngineProcess
from testing.ports import free_port
from wire.client import SoftcutClient

HERE = Path(__file__).resolve().parent
W, H = SIZE
PW, PH = PLATE_SIZE
OTHER_LOG = "requests_other.jsonl"  # what Krita asks the other engine (spec "other_port")
PLATE_CROP = (20, 10, 280, 220)  # (x, y, w, h): the part of the plate in plate_crop.png (a plate of another size)


def skip_without_krita() -> None:
    """Skip the calling test module where Krita or Xvfb is missing (CI installs them: never skipped there)."""
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


def _start_krita(env: dict, out: Path, *, attempts: int = 3, startup: float = 240.0) -> tuple[subprocess.Popen, float]:
    """Krita under Xvfb, started again (up to twice) when it hangs in its own start-up before any plug-in
    runs (seen on a loaded CI machine: no canvas, no driver, idle, after "Database is up to date" in
    krita.log; on 2026-12-07 two starts in a row hung so, at the start of a full run, while the same
    tests alone passed): the driver marks ``driver_started``.
    Returns Krita and the seconds its (last) start took until the driver ran."""
    for attempt in range(attempts):
        started = time.monotonic()
        krita = subprocess.Popen(["xvfb-run", "-a", "krita", "--nosplash"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.monotonic() + startup
        while time.monotonic() < deadline and krita.poll() is None and not (out / "driver_started").exists():
            time.sleep(0.1)
        if (out / "driver_started").exists() or krita.poll() is not None or attempt == attempts - 1:
            return krita, time.monotonic() - started
        os.killpg(krita.pid, signal.SIGKILL)  # hung before the driver: xvfb-run, Xvfb and Krita together
        krita.communicate()
    return krita, time.monotonic() - started


def run_krita(tmp_path_factory):
    """Run every scenario in one Krita session; yields (OUT folder, engine client factory)."""
    tmp = tmp_path_factory.mktemp("krita")
    t0 = time.monotonic()
    model = build_tiny_model(tmp / "tiny.onnx")
    write_sidecar(model)
    config = tmp / "config"
    with pytest.MonkeyPatch.context() as env:  # the engine finds the chosen model's stand-in in rembg's folder
        env.setenv("U2NET_HOME", str(write_model_zoo(tmp / "u2net")))
        engine = EngineProcess(config, model, "--device", "cpu", home=tmp / "home", timeout=60, env=ENGINE_ENV)
    doomed = EngineProcess(config, model, "--device", "cpu", home=tmp / "home", timeout=60, env=ENGINE_ENV)
    lan = EngineProcess(config, model, "--device", "cpu", "--lan", home=tmp / "home", timeout=60, env=ENGINE_ENV)
    engines_s = time.monotonic() - t0
    out = tmp / "out"
    out.mkdir()
    write_inputs(out, veil_alpha=90)
    write_phone_inputs(out)
    write_plate_inputs(out)
    write_plate_files(out)
    write_animation_inputs(out)
    write_object_inputs(out)
    relay = RequestLog(engine.port, out / LOG)  # Krita talks to the engine through it: what each action asks
    other = RequestLog(lan.port, out / OTHER_LOG)  # another engine, which holds none of the first one's results
    spec = {"port": relay.port, "token": engine.token, "refine": REFINE, "width": W, "height": H,
            "poster_size": list(POSTER), "photo_side": PHONE_PHOTO, "object_size": list(PHONE_OBJECT),
            "offset_size": list(SMALL), "big_size": list(BIG), "segments_size": list(SEGMENTS_SIZE),
            "dead_port": free_port(), "kill_port": doomed.port, "kill_pid": doomed.proc.pid, "lan_port": lan.port,
            "plate_size": list(PLATE_SIZE), "animation_times": list(ANIMATION_TIMES),
            "animation_outside": ANIMATION_OUTSIDE, "animation_end": ANIMATION_RANGE_END, "chosen_model": CHOSEN_MODEL,
            "other_port": other.port, "object_box": list(OBJECT_BOX), "object_clicks": [list(c) for c in OBJECT_CLICKS],
            "add_rough": list(ADD_ROUGH), "subtract_rough": list(SUBTRACT_ROUGH)}
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
    # The canvas painted without OpenGL: under Xvfb, OpenGL is Mesa's software renderer, whose threads drew each
    # new document's view (2 MP ones among them) on the cores the engines and the rest of the suite share. The
    # plug-in reads and writes pixels through Krita's API, never through the canvas.
    (xdg_config / "kritadisplayrc").write_text("[General]\nOpenGLRenderer=none\n")
    try:
        launched = time.monotonic()
        krita, startup_s = _start_krita(env, out)
        try:
            log, _ = krita.communicate(timeout=900)  # a guard against a hang; the machine may be busy
        except subprocess.TimeoutExpired:
            os.killpg(krita.pid, signal.SIGKILL)  # xvfb-run, Xvfb and Krita together
            log, _ = krita.communicate()
        note_timings(out, engines_s=engines_s, inputs_s=launched - t0 - engines_s, krita_startup_s=startup_s,
                     krita_session_s=time.monotonic() - launched)
        if (out / "driver_error.txt").exists() or not (out / "done").exists():
            error = (out / "driver_error.txt").read_text() if (out / "driver_error.txt").exists() else ""
            pytest.fail(f"the Krita session did not finish:\n{error}\n{log[-3000:]}")

        def client() -> SoftcutClient:
            return SoftcutClient(port=engine.port, token=engine.token, timeout=120)

        yield out, client
    finally:
        relay.close()
        other.close()
        engine.stop()
        doomed.stop()
        lan.stop()
