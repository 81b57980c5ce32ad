"""The layer contracts of pyproject.toml ([tool.importlinter]) hold, and each one catches the
back-edge it exists to forbid (added on purpose to a copy of the tree)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "wire", "engine_server", "softcut_app", "testing")
PLUGIN_PATHS = ("plugins/krita", "plugins/gimp/softcut_gimp")
LINT = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
pytestmark = pytest.mark.skipif(LINT is None, reason="import-linter is not installed (pip install -e '.[test]')")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *(str(root / p) for p in PLUGIN_PATHS)])}
    return subprocess.run([LINT, "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_tree_keeps_every_layer_contract():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _copy_tree(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "js", "*.html", "*.css")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for plugin, package in (("plugins/krita", "softcut_krita"), ("plugins/gimp/softcut_gimp", "softcut_plugin")):
        shutil.copytree(ROOT / plugin / package, target / plugin / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


BACK_EDGES = [
    ("engine_server/jobs.py", "import softcut_app.cli", "the application sits on the engine"),
    ("core/subject/select.py", "import wire.protocol", "the application sits on the engine"),
    ("wire/client/api.py", "import numpy", "wire is the standard library only"),
    ("core/views.py", "import websockets", "core is the matting library"),
    ("plugins/krita/softcut_krita/controller.py", "from wire.client import raw_image", "plug-ins import only their own vendored wire"),
    ("plugins/gimp/softcut_gimp/softcut_plugin/actions.py", "import core.subject.select", "plug-ins import only their own vendored wire"),
    ("engine_server/server.py", "import testing.launcher", "nothing shipped imports the test support"),
]


@pytest.mark.parametrize("module, line, contract", BACK_EDGES, ids=[m for m, _, _ in BACK_EDGES])
def test_a_back_edge_breaks_its_contract(tmp_path, module, line, contract):
    root = _copy_tree(tmp_path / "tree")
    path = root / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # added on purpose\n", encoding="utf-8")
    done = lint(root)
    assert done.returncode != 0, done.stdout
    broken = [row for row in done.stdout.splitlines() if " BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), done.stdout
