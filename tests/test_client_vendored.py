"""The client as an editor plug-in carries it: copied under another package name and
run by a Python with no site-packages at all (no numpy, no websockets)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import red_disc_image
from core.imageio import float_to_uint8
from test_server import Engine

PACKAGE = Path(__file__).resolve().parents[1] / "wire"


def vendor(target: Path) -> Path:
    """Copy what a plug-in needs (the whole :mod:`wire` package) into ``target/softcut_vendored``."""
    target.mkdir(parents=True)
    shutil.copytree(PACKAGE, target / "softcut_vendored", ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_vendored_client_runs_in_a_bare_python(tmp_path, tiny_model):
    image, truth = red_disc_image(90, 120)
    (tmp_path / "image.raw").write_bytes(float_to_uint8(image).tobytes())
    root = vendor(tmp_path / "plugin")
    engine = Engine(tmp_path, tiny_model)
    script = textwrap.dedent(f"""
        import sys
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
    """)
    try:
        done = subprocess.run([sys.executable, "-S", "-I", "-c", script], capture_output=True, timeout=120)
    finally:
        engine.stop()
    assert done.returncode == 0, done.stderr.decode()
    import numpy as np

    alpha = np.frombuffer(done.stdout, np.uint8).reshape(90, 120) / 255.0
    assert np.abs(alpha - truth).mean() < 0.03
