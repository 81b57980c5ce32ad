"""The client as an editor plug-in carries it: copied under another package name and
run by a Python with no site-packages at all (no numpy, no websockets), the oldest Python a
supported editor bundles (Krita 5.2's 3.10) among them; and the vendored python-websockets is
the pinned release, unmodified."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sample_images import red_disc_image
from core.imageio import float_to_uint8
from test_server import Engine

PACKAGE = Path(__file__).resolve().parents[1] / "wire"
VENDORED = PACKAGE / "_vendor"


def python_310() -> str | None:
    """A Python 3.10 on this machine (Krita 5.2 bundles 3.10 on Windows and macOS), or None."""
    candidates = [*sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python3.10"))),
                  shutil.which("python3.10")]
    for candidate in filter(None, candidates):  # a pyenv shim is on PATH but may not run
        ran = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
                             capture_output=True, text=True)
        if ran.stdout.strip() == "True":
            return candidate
    return None


PYTHONS = {"this": sys.executable, "3.10": python_310()}


def vendor(target: Path) -> Path:
    """Copy what a plug-in needs (the whole :mod:`wire` package) into ``target/softcut_vendored``."""
    target.mkdir(parents=True)
    shutil.copytree(PACKAGE, target / "softcut_vendored", ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize("python", sorted(PYTHONS))
def test_vendored_client_runs_in_a_bare_python(tmp_path, tiny_model, python):
    if PYTHONS[python] is None:
        pytest.skip("no Python 3.10 on this machine (python3.10 on PATH or ~/.pyenv/versions/3.10*)")
    image, truth = red_disc_image(90, 120)
    (tmp_path / "image.raw").write_bytes(float_to_uint8(image).tobytes())
    root = vendor(tmp_path / "plugin")
    engine = Engine(tmp_path, tiny_model)
    script = textwrap.dedent(f"""
        import sys
        assert sys.version_info >= (3, 10), sys.version
        sys.path.insert(0, {str(root)!r})
        for banned in ("numpy", "websockets", "engine_server", "core", "wire"):
            assert banned not in sys.modules
        from softcut_vendored.client import SoftcutClient, raw_image
        pixels = open({str(tmp_path / "image.raw")!r}, "rb").read()
        with SoftcutClient(port={engine.port}, token={engine.token!r}, timeout=60) as client:
            result = client.select_subject(raw_image(120, 90, "rgb8", pixels), refine="fast", outputs=["alpha"])
        sys.stdout.buffer.write(result.buffers["alpha"])
        for banned in ("numpy", "websockets", "engine_server", "core", "wire"):
            assert banned not in sys.modules, banned
        assert "softcut_vendored._vendor.websockets.sync.client" in sys.modules  # the vendored client carried it
    """)
    try:
        done = subprocess.run([PYTHONS[python], "-S", "-I", "-c", script], capture_output=True, timeout=120)
    finally:
        engine.stop()
    assert done.returncode == 0, done.stderr.decode()
    import numpy as np

    alpha = np.frombuffer(done.stdout, np.uint8).reshape(90, 120) / 255.0
    assert np.abs(alpha - truth).mean() < 0.03


def test_the_vendored_websockets_is_the_pinned_release_unmodified():
    """Each vendored file's sha256 is the one recorded from the release's source distribution
    (wire/_vendor/README.md says how), and nothing else was added to the package."""
    recorded = {}
    for line in (VENDORED / "websockets.sha256").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        recorded[name] = digest
    present = {path.relative_to(VENDORED).as_posix() for path in (VENDORED / "websockets").rglob("*.py")}
    assert present == set(recorded)
    changed = [name for name, digest in recorded.items()
               if hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() != digest]
    assert changed == []
    assert 'tag = version = commit = "16.1.1"' in (VENDORED / "websockets" / "version.py").read_text()
    assert (VENDORED / "websockets" / "LICENSE").read_text().startswith("Copyright (c) Aymeric Augustin")
