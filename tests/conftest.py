"""Shared fixtures: a tiny ONNX model built in the test, the real model, and the real editors'
sessions (one Krita and one GIMP session per test run, whichever of their test modules ask).

Only fixtures live here; the helpers the tests import have modules of their own: tiny_models.py
(build_tiny_model, write_sidecar), sample_images.py (red_disc_image, textured, plate_scene,
SHARED_DATA) and server_thread.py (ServerThread). Import them from there, not from ``conftest``:
pytest imports each conftest.py outside a package under that one module name, so a conftest.py in
a subfolder would make ``from conftest import`` reach the wrong file. No subfolder of tests/ has
one, which is why the editors' session fixtures are here.
"""

from __future__ import annotations

import fcntl
import os
import signal
from pathlib import Path

import pytest

# Re-exported for imports written before the helpers moved out (prefer the modules above).
from sample_images import SHARED_DATA, plate_scene, red_disc_image, textured  # noqa: F401
from server_thread import ServerThread  # noqa: F401
from tiny_models import build_tiny_model, write_sidecar

# A test run started in the background of a shell (`pytest &`, nohup) inherits SIGINT ignored, and so
# would every child it starts: the tests that press Ctrl-C on a child (watch, video, private files)
# would then wait out their limits. A handler here makes the children start with the default, as
# from a terminal (exec resets handled signals, not ignored ones).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """A user ONNX model (with sidecar) that calls reddish pixels the subject."""
    path = build_tiny_model(tmp_path / "tiny.onnx")
    write_sidecar(path)
    return path


def _worker_scope(nodeid: str) -> str:
    """What runs on one pytest-xdist worker: a test file (its module fixtures: a real engine, a Ray
    cluster, one ``npm test``), or all of tests/krita, or all of tests/gimp (one editor session each)."""
    path = nodeid.split("::", 1)[0]
    folder = path.split("/")[-2] if path.count("/") else ""
    return folder if folder in ("krita", "gimp") else path


try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # without pytest-xdist the tests run in one process
    LoadScopeScheduling = None

if LoadScopeScheduling is not None:

    class _FileOrEditorScheduling(LoadScopeScheduling):
        """Whole :func:`_worker_scope` groups to each free worker (``-n N``)."""

        def _split_scope(self, nodeid: str) -> str:
            return _worker_scope(nodeid)

    def pytest_xdist_make_scheduler(config, log):
        """With ``-n``: a test file, or an editor's folder, per worker (xdist's own ``xdist_group`` marks
        are lost under pytest 9, which keeps a node's id elsewhere than xdist 3.8 writes it)."""
        return _FileOrEditorScheduling(config, log)


@pytest.fixture(scope="session")
def real_home(tmp_path_factory) -> Path:
    """SOFTCUT_HOME for real-model tests: $SOFTCUT_TEST_HOME (a persistent cache) or a temp dir, one
    for all the workers of a pytest-xdist run (the model is fetched once)."""
    home = os.environ.get("SOFTCUT_TEST_HOME")
    if home:
        return Path(home)
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    shared = root / "softcut_home"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture(scope="session")
def real_session(real_home: Path):
    """The real default model, fetched through npm into the cache on first use."""
    from core.models import registry, store
    from core.models.session import MaskSession
    from core.providers import choose_providers

    old = os.environ.get("SOFTCUT_HOME")
    os.environ["SOFTCUT_HOME"] = str(real_home)
    try:
        spec = registry.get_spec("isnet")
        with open(real_home / ".fetching", "w") as lock:  # one worker fetches; the others wait, then verify
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = store.ensure(spec)
        yield MaskSession(spec, path, choose_providers("cpu"))
    finally:
        if old is None:
            os.environ.pop("SOFTCUT_HOME", None)
        else:
            os.environ["SOFTCUT_HOME"] = old


# The editors' fixtures: their bodies are beside the tests that use them, whose modules import the
# body's module first (so it is on the path by the time a fixture runs).


@pytest.fixture(scope="session")
def krita_run(tmp_path_factory):
    """Every scenario run in one real Krita session (tests/krita/krita_scenario_run.py); yields
    (OUT folder, engine client factory)."""
    from krita_scenario_run import run_krita

    yield from run_krita(tmp_path_factory)


@pytest.fixture(scope="session")
def gimp_run():
    """Every scenario run in one real GIMP session (tests/gimp/gimp_scenario_run.py); yields
    (OUT folder, engine client factory, watcher facts)."""
    from gimp_scenario_run import run_gimp

    yield from run_gimp()
