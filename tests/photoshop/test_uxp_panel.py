"""The Photoshop UXP panel's own test suite (`npm test` in plugins/photoshop_uxp), run from pytest.

The JavaScript tests start real engines with this interpreter (SOFTCUT_PYTHON), run the
shipped panel modules over an in-memory Photoshop document, and render the panel page in
headless Chromium (Debian's /usr/bin/chromium, or $SOFTCUT_CHROMIUM). Node's dev
dependencies are installed from package-lock.json with `npm ci` when missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from softcut_app.plugin_install import uxp_files

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "photoshop_uxp"


def _npm(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Photoshop panel's tests (Debian: apt install nodejs npm)"
    return subprocess.run([npm, *args], cwd=PLUGIN, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    marker = PLUGIN / "node_modules" / ".package-lock.json"
    lock = PLUGIN / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        done = _npm("ci", "--no-audit", "--no-fund")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return PLUGIN / "node_modules"


CHROMIUM = Path(os.environ.get("SOFTCUT_CHROMIUM", "/usr/bin/chromium"))
NO_CHROMIUM = not CHROMIUM.exists() and not os.environ.get("CI")
"""The page tests' condition (testing/browser.js): they skip themselves where Chromium is missing, except in
CI, which installs it."""


@pytest.fixture(scope="module")
def npm_test(node_modules, tmp_path_factory) -> tuple[str, Path]:
    """`npm test`, run once: (its report, the folder of its screenshots)."""
    shots = tmp_path_factory.mktemp("panel-shots")
    env = {**os.environ, "SOFTCUT_PYTHON": sys.executable, "SOFTCUT_SCREENSHOT_DIR": str(shots)}
    done = _npm("test", env=env)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-12000:]
    return report, shots


def _count(report: str, what: str) -> int:
    return int(re.search(rf"^# {what} (\d+)$", report, re.M).group(1))


def test_npm_test_passes_against_real_engines(npm_test):
    report, _ = npm_test
    assert _count(report, "fail") == 0
    assert _count(report, "pass") >= 60, f"only {_count(report, 'pass')} JavaScript tests ran"
    if not NO_CHROMIUM:
        assert _count(report, "skipped") == 0, report[-6000:]


@pytest.mark.skipif(NO_CHROMIUM, reason=f"the panel's page tests need Chromium at {CHROMIUM} (apt-get install chromium)")
def test_the_panel_page_renders_in_chromium(npm_test):
    report, shots = npm_test
    assert _count(report, "skipped") == 0, "the page tests skipped themselves"
    for shot in ("panel-unpaired.png", "panel-minimum-size.png"):
        assert (shots / shot).stat().st_size > 5000, f"{shot}: no screenshot"


def test_npm_package_builds_a_ccx_that_a_zip_reader_reads_back(node_modules, tmp_path):
    done = _npm("run", "package")
    assert done.returncode == 0, done.stdout + done.stderr
    package = PLUGIN / "dist" / "softcut-photoshop.ccx"
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None  # every CRC checks out
        names = archive.namelist()
        assert names == uxp_files(PLUGIN)  # the same list `softcut install-plugin photoshop` zips
        assert names[0] == "manifest.json"
        for name in names:
            assert archive.read(name) == (PLUGIN / name).read_bytes(), name
