"""`softcut batch --ray` (issue 24) on a real two-node Ray cluster started here (`ray start --head` and a
second `ray start --address`, one CPU each, as the issue asks): the same files as `softcut cut`, the manifest
exact when a worker process is killed mid-image, and the message when Ray is not installed (that one runs
without Ray). Ray comes with the test extra; where it is missing the cluster tests are skipped, saying so."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from batch_support import (REPO, assert_same_outputs, done_inputs, records, softcut, start, summary,
                           wait_for, write_folder)
from cli_support import TINY
from core.imageio import save_png
from testing.ports import free_port
from testing.ray_nodes import ray_node, stop_node, wait_started
from tiny_models import build_hanging_model, write_sidecar

NAMES = [f"p{k}.png" for k in range(6)]
GREEN = "p2.png"
"""The photo replaced by a pure green one, on which the hanging model runs for ever."""


def _alive_nodes(address: str) -> int:
    probe = subprocess.run([sys.executable, "-c", "import ray; ray.init(address=%r, logging_level='ERROR'); "
                            "print(sum(n['Alive'] for n in ray.nodes()))" % address],
                           capture_output=True, text=True, timeout=60)
    return int(probe.stdout.split()[-1]) if probe.returncode == 0 and probe.stdout.split() else 0


@pytest.fixture(scope="module")
def cluster():
    """The address of a two-node Ray cluster on this machine, stopped after the module's tests."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]' (the test extra has it)")
    pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install -e '.[ray]'")
    # A cluster of this test's own, on this machine only: no token to share between its nodes and clients.
    auth = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    port = free_port()
    address = f"{ray.util.get_node_ip_address()}:{port}"
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # Ray's sockets need a short path
    head_log, worker_log = Path(temp) / "head.log", Path(temp) / "worker.log"
    nodes = [ray_node(head_log, "--head", "--port", port, "--temp-dir", temp, "--include-dashboard", "false")]
    try:
        wait_started(head_log, nodes[0])  # its log says so: cheaper than probing with a client meanwhile
        nodes.append(ray_node(worker_log, "--address", address))
        wait_started(worker_log, nodes[1])
        wait_for(lambda: _alive_nodes(address) == 2, nodes[1], limit=120)  # both registered, seen by a client
        yield address
    finally:
        for node in reversed(nodes):
            stop_node(node)
        shutil.rmtree(temp, ignore_errors=True)
        if auth is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = auth


def test_ray_on_two_nodes_writes_what_cut_writes(tmp_path, tiny_model, cluster):
    src = write_folder(tmp_path / "photos", ["a.png", "sub/b.jpg", "sub/c.webp", "d.png"])
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    cut = softcut("cut", src, "-o", tmp_path / "cut", "--model", tiny_model, *TINY)
    assert cut.returncode == 1, cut.stderr  # the broken file
    done = softcut("batch", src, tmp_path / "dst", "--ray", cluster, "--model", tiny_model, *TINY)
    assert done.returncode == 1, done.stderr
    assert "joined in" in done.stderr and "2 node(s)" in done.stderr and "broken.png" in done.stderr
    assert_same_outputs(tmp_path / "cut", tmp_path / "dst")
    assert done_inputs(tmp_path / "dst") == ["a.png", "d.png", "sub/b.jpg", "sub/c.webp"]
    assert len(records(tmp_path / "dst")) == 5 and "4 cut out, 0 already done, 1 failed" in done.stderr


def _named(name: str) -> list[int]:
    """Processes whose name (comm) is ``name``: a softcut actor names itself after the input it cuts."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_a_ray_worker_killed_mid_image_loses_nothing_and_records_nothing_twice(tmp_path, cluster):
    """The green photo hangs its actor (which names itself after the input it cuts); the photo is then made
    a real one and that worker process is killed: Ray restarts the actor and retries the task, and the job
    ends with every input done and recorded once."""
    model = build_hanging_model(tmp_path / "hangs.onnx")
    write_sidecar(model)
    src = write_folder(tmp_path / "photos", NAMES)
    real = (src / GREEN).read_bytes()
    save_png(src / GREEN, np.full((120, 170, 3), (0, 255, 0), np.uint8))
    dst = tmp_path / "dst"
    batch = start("batch", src, dst, "--ray", cluster, "--workers", "2", "--model", model, *TINY, "--json")
    wait_for(lambda: _named("sc-" + GREEN), batch)  # its actor is cutting it: in the endless model run
    (src / GREEN).write_bytes(real)
    for pid in _named("sc-" + GREEN):
        os.kill(pid, signal.SIGKILL)
    out, err = batch.communicate(timeout=600)
    assert batch.returncode == 0, err
    result = summary(subprocess.CompletedProcess(batch.args, 0, out, err))
    assert (result["done"], result["failed"]) == (len(NAMES), 0)  # one record a result: none twice
    assert done_inputs(dst) == NAMES and len(records(dst)) == len(NAMES)
    cut = softcut("cut", src, "-o", tmp_path / "cut", "--model", model, *TINY)
    assert cut.returncode == 0, cut.stderr
    assert_same_outputs(tmp_path / "cut", dst)


def test_without_ray_the_flag_says_how_to_install_it(tmp_path, tiny_model):
    """Ray made unimportable in the child (None in sys.modules), whether or not it is installed here."""
    src = write_folder(tmp_path / "photos", ["a.png"])
    code = ("import sys; sys.modules['ray'] = None; from softcut_app.cli import main; "
            f"sys.exit(main(['batch', {str(src)!r}, {str(tmp_path / 'dst')!r}, '--ray', '--model', {str(tiny_model)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "pip install 'softcut[ray]'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "dst").exists()
