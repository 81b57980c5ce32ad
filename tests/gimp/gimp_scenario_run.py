"""The one real GIMP session the GIMP tests share (the body of conftest.py's ``gimp_run``).

``tests/gimp/make_chroot.sh`` builds the chroot once (CI runs it); GIMP 3.0 runs there (GUI,
under Xvfb) the scenarios (``scenarios.py`` and the modules it imports) through its
``python-fu-eval`` batch interpreter, which calls the Softcut procedures through the PDB. The
plug-in goes in with ``softcut install-plugin gimp``. The engines run here, outside the chroot, on
loopback (which the chroot shares): one that answers, one killed mid-job, one whose client (the
plug-in's process) is killed mid-job, and one whose results the first does not hold (Add to Subject
correcting a result that engine made: a previous result the engine has lost).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from editor_files import (
    ADD_ROUGH,
    BIG,
    CHOSEN_MODEL,
    ENGINE_ENV,
    OBJECT_BOX,
    OBJECT_CLICKS,
    OBJECT_DISCS,
    PHONE_OBJECT,
    PHONE_PHOTO,
    PLATE_SIZE,
    POSTER,
    REFINE,
    SEGMENTS_SIZE,
    SEGMENTS_SMALL,
    SMALL,
    SUBTRACT_ROUGH,
    note_timings,
    write_inputs,
    write_model_zoo,
    write_object_inputs,
    write_phone_inputs,
    write_plate_inputs,
)
from editor_requests import LOG, RequestLog
from gimp_checks import DIALOG_SEGMENTS, SEGMENTS, H, W
from PIL import Image
from tiny_models import build_tiny_model, write_sidecar

from testing.launcher import EngineProcess
from testing.ports import free_port
from wire.client import SoftcutClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gimp_session as session  # noqa: E402  (GIMP in the chroot)

HERE = Path(__file__).resolve().parent
SCENARIOS = ("scenarios.py", "gimp_scenario_kit.py", "gimp_select_scenarios.py", "gimp_segments_scenarios.py",
             "gimp_plate_scenarios.py", "gimp_phone_scenarios.py", "gimp_object_scenarios.py",
             "gimp_object_refusals.py")  # what runs inside GIMP: scenarios.py first


def skip_without_gimp() -> None:
    """Skip the calling test module where the GIMP chroot has not been built (CI builds it: never skipped there)."""
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
                    stop.wait(0.1)  # the jobs watched run for seconds (2 MP, best); each poll costs the engine CPU
        except Exception:  # not up yet, or gone
            stop.wait(0.2)


def write_plate_files(out: Path) -> None:
    """:func:`write_plate_inputs`' files, and the plate as plate.png and plate.tif."""
    write_plate_inputs(out)
    plate = Image.frombytes("RGBA", PLATE_SIZE, (out / "plate.rgba").read_bytes()).convert("RGB")
    plate.save(out / "plate.png")
    plate.save(out / "plate.tif")  # not PNG or JPEG: GIMP opens it for the plug-in


def run_gimp():
    """Run every scenario in one GIMP session; yields (OUT folder, engine client factory, watcher facts)."""
    assert session.READY.exists(), "CI must build the chroot: sh tests/gimp/make_chroot.sh"
    tmp, inside = session.shared_folder("softcut-gimp-")
    engines: list[EngineProcess] = []
    relay = None
    try:
        t0 = time.monotonic()
        model = build_tiny_model(tmp / "tiny.onnx")
        write_sidecar(model)
        with pytest.MonkeyPatch.context() as env:  # the engines find the chosen model's stand-in in rembg's folder
            env.setenv("U2NET_HOME", str(write_model_zoo(tmp / "u2net")))
            # the one that answers, one killed mid-job, one whose client is killed mid-job, and another (whose
            # results the first does not hold: a previous result the engine has lost)
            for _ in range(4):
                engines.append(EngineProcess(tmp / "config", model, "--device", "cpu", home=tmp / "softcut-home",
                                             timeout=60, env=ENGINE_ENV))
        engine, doomed, abandoned, other = engines
        engines_s = time.monotonic() - t0
        out = tmp / "out"
        out.mkdir()
        write_inputs(out, veil_alpha=200)  # a veil that moves the matte
        write_phone_inputs(out)
        write_plate_files(out)
        write_object_inputs(out)
        relay = RequestLog(engine.port, out / LOG)  # GIMP talks to the engine through it: what each action asks
        spec = {"port": relay.port, "refine": REFINE, "width": W, "height": H, "offset_size": list(SMALL),
                "big_size": list(BIG), "segments_size": list(SEGMENTS_SIZE), "segments_small": list(SEGMENTS_SMALL),
                "dead_port": free_port(), "kill_port": doomed.port,
                "abandoned_port": abandoned.port, "poster_size": list(POSTER), "photo_side": PHONE_PHOTO,
                "object_size": list(PHONE_OBJECT), "segments": SEGMENTS, "dialog_segments": DIALOG_SEGMENTS,
                "plate_size": list(PLATE_SIZE), "chosen_model": CHOSEN_MODEL, "other_port": other.port,
                "object_box": OBJECT_BOX, "object_clicks": OBJECT_CLICKS, "object_discs": OBJECT_DISCS,
                "add_rough": ADD_ROUGH, "subtract_rough": SUBTRACT_ROUGH}
        (out / "spec.json").write_text(json.dumps(spec))
        (tmp / "scenarios").mkdir()
        for name in SCENARIOS:
            shutil.copy(HERE / name, tmp / "scenarios" / name)

        session.install_plugin(tmp)
        plugin = inside / "home" / ".config" / "GIMP" / "3.0" / "plug-ins" / "softcut_gimp" / "softcut_gimp.py"
        stop, seen = threading.Event(), {"engine_dies": {}, "plugin_killed": {}}
        watchers = [  # the engine dies mid-job; the plug-in process dies mid-job
            (doomed, lambda: doomed.proc.send_signal(signal.SIGKILL), seen["engine_dies"]),
            (abandoned, lambda: subprocess.run(["pkill", "-KILL", "-f", str(plugin)]), seen["plugin_killed"]),
        ]
        for engine_, act, record in watchers:
            threading.Thread(target=_on_first_job, args=(engine_, act, stop, record), daemon=True).start()
        launched, launched_at = time.monotonic(), time.time()
        try:
            log = session.run_script(inside, inside / "scenarios" / "scenarios.py", {
                "SOFTCUT_CONFIG": str(inside / "config"), "SOFTCUT_GIMP_OUT": str(inside / "out"),
                "SOFTCUT_GIMP_SCENARIOS": str(inside / "scenarios")}, timeout=900)
        finally:
            stop.set()
        begun = json.loads((out / "timings.json").read_text()).get("first_scenario_at") \
            if (out / "timings.json").exists() else None
        note_timings(out, engines_s=engines_s, inputs_s=launched - t0 - engines_s,
                     gimp_startup_s=(begun - launched_at) if begun else -1.0,
                     gimp_session_s=time.monotonic() - launched)
        if (out / "timings.json").exists():  # kept beside the session folders (this one goes): the last run's
            shutil.copy(out / "timings.json", tmp.parent / "softcut-gimp-timings.json")
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
