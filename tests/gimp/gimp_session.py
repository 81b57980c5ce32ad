"""Run a Python script inside real GIMP 3 (GUI, Xvfb) in the Debian 13 chroot.

Used by ``tests/gimp`` and ``bench/bench_gimp.py``. The chroot comes from
``tests/gimp/make_chroot.sh``; folders under its ``/tmp`` are shared with the
host, so engines run on the host and GIMP reaches them on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(os.environ.get("SOFTCUT_GIMP_ROOT")
            or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "softcut" / "gimp3-trixie")
READY = ROOT / ".softcut-gimp3-ready"


def shared_folder(prefix: str) -> tuple[Path, Path]:
    """A new folder under the chroot's /tmp: (its path here, its path inside the chroot)."""
    (ROOT / "tmp").mkdir(exist_ok=True)
    here = Path(tempfile.mkdtemp(prefix=prefix, dir=ROOT / "tmp"))
    return here, Path("/tmp") / here.name


def install_plugin(here: Path) -> None:
    """``softcut install-plugin gimp`` into ``here/home`` (GIMP's HOME in :func:`run_script`)."""
    installed = subprocess.run(
        [sys.executable, "-m", "softcut_app.cli", "install-plugin", "gimp",
         "--resource-dir", str(here / "home" / ".config" / "GIMP" / "3.0")],
        capture_output=True, text=True, timeout=60)
    if installed.returncode != 0:
        raise RuntimeError(f"install-plugin gimp failed: {installed.stderr}")


def free_display() -> int:
    """An X display number no server uses, on the host or in any chroot.

    X servers listen on abstract sockets, which a chroot shares with the host, while
    ``xvfb-run -a`` only looks at lock files in its own /tmp: two of them could pick the same.
    """
    used = set()
    for line in Path("/proc/net/unix").read_text().splitlines():
        name = line.rsplit(" ", 1)[-1]
        if "/.X11-unix/X" in name:
            used.add(name.rsplit("X", 1)[-1])
    return next(n for n in range(150, 1000) if str(n) not in used)


def run_script(inside: Path, script: Path, env: dict[str, str], timeout: float) -> str:
    """Run ``script`` (a path inside the chroot) in GIMP's GUI; returns GIMP's output.

    GIMP's HOME is ``inside/home``; the script must quit GIMP itself. On timeout
    the whole group (xvfb-run, Xvfb, GIMP, its plug-ins) is killed.
    """
    variables = [f"{k}={v}" for k, v in {"HOME": str(inside / "home"), "PATH": "/usr/bin:/bin",
                                         "LANG": "C.UTF-8", **env}.items()]
    command = ["chroot", str(ROOT), "env", "-i", *variables,
               "xvfb-run", "-n", str(free_display()), "-s", "-screen 0 1280x1024x24",
               "gimp-3.0", "-d", "-f", "--batch-interpreter", "python-fu-eval",
               "-b", f"exec(open('{script}').read())"]
    gimp = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        log, _ = gimp.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(gimp.pid, signal.SIGKILL)
        log, _ = gimp.communicate()
    return log
