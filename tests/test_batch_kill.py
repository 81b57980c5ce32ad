"""`softcut batch` killed: the batch process killed with SIGKILL mid-run, then a rerun, ends with every input
done exactly once (the manifest says each once, the rerun did only what had not landed); a worker process
killed mid-image is replaced and its image handed out again; a second run on the same DST is refused while one
runs. Real child processes and a tiny model that runs for ever on a pure green photo (one native call, as a big
model's run on a big photo), so each kill lands at a known point without timing."""

from __future__ import annotations

import os
import shutil
import signal

import numpy as np
import pytest

from batch_support import children, done_inputs, files_below, records, softcut, start, summary, wait_for, write_folder
from cli_support import TINY
from core.imageio import save_png
from tiny_models import build_hanging_model, write_sidecar

NAMES = [f"p{k}.png" for k in range(6)]
GREEN = "p3.png"
"""The photo replaced by a pure green one, on which the hanging model runs for ever."""


@pytest.fixture
def hanging(tmp_path):
    model = build_hanging_model(tmp_path / "hangs.onnx")
    write_sidecar(model)
    src = write_folder(tmp_path / "photos", NAMES)
    shutil.copyfile(src / GREEN, tmp_path / "real.png")
    save_png(src / GREEN, np.full((120, 170, 3), (0, 255, 0), np.uint8))
    return model, src


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def workers(batch) -> list[int]:
    """The batch's worker processes whose model is open (they name themselves softcut-worker)."""
    found = []
    for pid in children(batch.pid):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "softcut-worker":
                    found.append(pid)
        except OSError:
            pass
    return found


def test_a_killed_batch_resumes_with_nothing_lost_and_nothing_done_twice(tmp_path, hanging):
    model, src = hanging
    dst = tmp_path / "dst"
    batch = start("batch", src, dst, "--model", model, *TINY, "--workers", "1")
    before_green = NAMES[:NAMES.index(GREEN)]
    wait_for(lambda: done_inputs(dst) == before_green and workers(batch), batch)  # its worker is in the endless run
    refused = softcut("batch", src, dst, "--model", model, *TINY)
    assert refused.returncode == 2 and "another softcut batch" in refused.stderr
    stuck = workers(batch)
    batch.kill()  # SIGKILL, the batch process alone
    batch.wait()
    kill_all(stuck)  # its worker is stuck in the endless run: ours to end (it holds the batch's stderr)
    batch.communicate()
    shutil.copyfile(tmp_path / "real.png", src / GREEN)  # a photo the model answers
    (dst / f".{GREEN}.4242.tmp").write_bytes(b"half")  # as a worker killed mid-write leaves it
    rerun = softcut("batch", src, dst, "--model", model, *TINY, "--json")
    assert rerun.returncode == 0, rerun.stderr
    result = summary(rerun)
    assert (result["done"], result["skipped"]) == (len(NAMES) - len(before_green), len(before_green))
    assert done_inputs(dst) == NAMES and len(records(dst)) == len(NAMES)  # each input once
    assert files_below(dst) == NAMES and not list(dst.glob("*.tmp"))  # the killed run's temporary file swept


def test_a_killed_worker_is_replaced_and_an_image_that_kills_two_is_recorded(tmp_path, hanging):
    """Workers are killed while the green photo has no record; one that had not begun it does not count
    against it, so this takes two or more kills; the photos after it are handed to the replacements."""
    model, src = hanging
    dst = tmp_path / "dst"
    batch = start("batch", src, dst, "--model", model, *TINY, "--workers", "1", "--json")
    kills, before_green = 0, NAMES[:NAMES.index(GREEN)]
    wait_for(lambda: done_inputs(dst) == before_green, batch)
    while batch.poll() is None and GREEN not in {r["input"] for r in records(dst)}:
        wait_for(lambda: workers(batch) or GREEN in {r["input"] for r in records(dst)} or batch.poll() is not None)
        if GREEN not in {r["input"] for r in records(dst)}:
            kill_all(workers(batch))
            kills += 1
    out, err = batch.communicate(timeout=600)
    assert batch.returncode == 1, err
    assert kills >= 2 and "died twice" in err and GREEN in err
    others = [n for n in NAMES if n != GREEN]
    assert done_inputs(dst) == others and files_below(dst) == others
    (failed,) = [r for r in records(dst) if r["status"] == "failed"]
    assert failed["input"] == GREEN
