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

import os
from pathlib import Path

import pytest

# Re-exported for imports written before the helpers moved out (prefer the modules above).
from sample_images import SHARED_DATA, plate_scene, red_disc_image, textured  # noqa: F401
from server_thread import ServerThread  # noqa: F401
from tiny_models import build_tiny_model, write_sidecar


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """A user ONNX model (with sidecar) that calls reddish pixels the subject."""
    path = build_tiny_model(tmp_path / "tiny.onnx")
    write_sidecar(path)
    return path


@pytest.fixture(scope="session")
def real_home(tmp_path_factory) -> Path:
    """SOFTCUT_HOME for real-model tests: $SOFTCUT_TEST_HOME (a persistent cache) or a temp dir."""
    home = os.environ.get("SOFTCUT_TEST_HOME")
    return Path(home) if home else tmp_path_factory.mktemp("softcut_home")


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
