"""`softcut video` runs as processes: Ctrl-C during a model run stops it and the rerun resumes to the
frames of an unstopped run; one run at a time writes an output (a second is refused, a dead run's
lock blocks nobody); a finished run is not redone unless --restart. Real child processes, the small
generated clip of tests/video_clips.py and tiny ONNX models (one that runs for ever on a marker frame,
as a big model's run on a big frame is one long native call)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tiny_models import build_hanging_model, write_sidecar
from video_clips import (FRAMES, H, W, assert_frames_match, clip, finish, read_frames, reference, softcut_process,
                         softcut_run, write_frames)
from core.imageio import save_png
from core.video.lock import lock_path
from core.video.resume import STATE_NAME

pytest.importorskip("imageio_ffmpeg")

MARKED = 4
"""The frame (f4.png) replaced by a pure green one, on which the hanging model runs for ever."""
EXIT_WAIT = 120
"""Seconds a child is given to exit after Ctrl-C: generous (a loaded machine); a child still running then
has ignored it (before the fix it stayed in the model run for ever)."""


@pytest.fixture(scope="module")
def clip_data(tmp_path_factory) -> dict:
    """The clip's frames (f1.png … f8.png), the same with f4.png pure green, the hanging model and the
    reference frames of the clip (matte_frames with that model, run directly)."""
    from core.models.session import open_session

    root = tmp_path_factory.mktemp("runs")
    frames, _ = clip()
    folder = write_frames(root / "frames", frames)
    marked = write_frames(root / "marked", frames)
    save_png(marked / f"f{MARKED}.png", np.full((H, W, 3), (0, 255, 0), np.uint8))
    model = build_hanging_model(root / "hangs.onnx")
    write_sidecar(model)
    session = open_session(str(model), device="cpu")
    return {"folder": folder, "marked": marked, "model": model, "ref": reference(read_frames(folder), session)}


def frames_done(out: Path) -> int:
    state = out / STATE_NAME
    try:
        return json.loads(state.read_text())["frames_done"]
    except (OSError, ValueError):
        return 0


def start_hanging_run(clip_data: dict, frames: Path, out: Path) -> subprocess.Popen:
    """A child running ``softcut video`` on ``frames`` (a copy of the marked clip), returned once it has
    finished the frames before the marked one and is, a moment later, in the model run that never ends."""
    child = softcut_process("video", frames, "-o", out, "--model", clip_data["model"], "--device", "cpu")
    deadline = time.monotonic() + 600  # the guard only stops a child that hangs before its first frames
    while child.poll() is None and time.monotonic() < deadline and frames_done(out) < MARKED - 2:
        time.sleep(0.05)
    if child.poll() is not None or frames_done(out) < MARKED - 2:
        child.kill()
        _, err = child.communicate()
        raise AssertionError(f"the child never reached frame {MARKED} (exit {child.returncode}): {err[-800:]}")
    time.sleep(2.0)  # it decodes frame 4 and enters the model run (a Ctrl-C before it would not show the bug)
    assert child.poll() is None
    return child


def stop(child: subprocess.Popen, sig: int) -> tuple[int, str]:
    """Send ``sig`` and wait for the child to exit: (exit code, stderr); fails when it does not."""
    child.send_signal(sig)
    code, _, err = finish(child, EXIT_WAIT, f"a run sent signal {sig}")
    return code, err


def test_ctrl_c_during_a_model_run_stops_it_and_the_rerun_resumes_to_the_unstopped_frames(clip_data, tmp_path):
    frames = tmp_path / "frames"
    shutil.copytree(clip_data["marked"], frames)
    out = tmp_path / "out"
    child = start_hanging_run(clip_data, frames, out)
    code, err = stop(child, signal.SIGINT)
    assert code == 130, err
    assert f"interrupted after {MARKED - 2} frames" in err and "Traceback" not in err
    assert frames_done(out) == MARKED - 2
    assert not lock_path(out).exists()
    shutil.copyfile(clip_data["folder"] / f"f{MARKED}.png", frames / f"f{MARKED}.png")  # the real frame back
    code, _, err = softcut_run("video", frames, "-o", out, "--model", clip_data["model"], "--device", "cpu")
    assert code == 0, err
    assert f"resuming after frame {MARKED - 2}" in err
    assert_frames_match(out, clip_data["ref"])


def test_a_second_run_on_an_output_in_use_is_refused_and_a_dead_runs_lock_blocks_nobody(clip_data, tmp_path):
    frames = tmp_path / "frames"
    shutil.copytree(clip_data["marked"], frames)
    out = tmp_path / "out"
    first = start_hanging_run(clip_data, frames, out)
    try:
        for outputs in (["-o", out], ["-o", tmp_path / "other", "-o", out]):  # the same outputs, or sharing one
            code, _, err = softcut_run("video", frames, *outputs, "--model", clip_data["model"], "--device", "cpu")
            assert code == 2, err
            assert f"{out}: another softcut video run (pid {first.pid}) is writing it" in err
            assert "Traceback" not in err
        assert frames_done(out) == MARKED - 2 and first.poll() is None  # the first run is undisturbed
    finally:
        stop(first, signal.SIGKILL)
    assert lock_path(out).read_text().strip() == str(first.pid)  # left behind by the killed run
    shutil.copyfile(clip_data["folder"] / f"f{MARKED}.png", frames / f"f{MARKED}.png")
    code, _, err = softcut_run("video", frames, "-o", out, "--model", clip_data["model"], "--device", "cpu")
    assert code == 0, err
    assert f"resuming after frame {MARKED - 2}" in err
    assert_frames_match(out, clip_data["ref"])
    assert not lock_path(out).exists()


def test_a_finished_run_is_not_redone_unless_restart(clip_data, tmp_path):
    out, mov = tmp_path / "out", tmp_path / "cut.mov"
    command = ["video", clip_data["folder"], "-o", out, "-o", mov, "--model", clip_data["model"], "--device", "cpu"]
    code, _, err = softcut_run(*command)
    assert code == 0, err
    assert_frames_match(out, clip_data["ref"])
    written = {p.name: p.stat().st_mtime_ns for p in [*out.iterdir(), mov]}
    code, stdout, err = softcut_run(*command, "--json")
    assert code == 0, err
    assert json.loads(stdout) == {"input": str(clip_data["folder"]), "frames": FRAMES, "outputs": [str(out), str(mov)],
                                  "already_done": True}
    assert {p.name: p.stat().st_mtime_ns for p in [*out.iterdir(), mov]} == written  # nothing rewritten
    code, stdout, err = softcut_run(*command)
    assert code == 0 and "already done" in stdout and "--restart" in stdout, err
    code, stdout, err = softcut_run(*command, "--restart")
    assert code == 0 and "already done" not in stdout, err
    assert all(p.stat().st_mtime_ns > written[p.name] for p in [*out.iterdir(), mov])  # done again
    assert_frames_match(out, clip_data["ref"])
    mov.unlink()  # an output gone: the run is done again
    code, stdout, err = softcut_run(*command)
    assert code == 0 and "already done" not in stdout and mov.is_file(), err
