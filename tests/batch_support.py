"""Helpers for the `softcut batch` tests (tests/test_batch_*.py): generated folders of disc photos that the
tiny model finds, the batch as a real child process, the manifest's lines, and comparing a batch's
outputs with `softcut cut`'s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from core.imageio import float_to_uint8, save_png
from sample_images import red_disc_image

REPO = Path(__file__).resolve().parent.parent
MANIFEST = ".softcut-batch.jsonl"
SIZES = [(150, 200), (160, 210), (140, 190), (170, 150), (130, 220), (150, 160), (180, 200), (120, 170)]
"""(height, width) of the generated photos, one per input so that each has its own bytes."""


def write_photo(path: Path, k: int = 0) -> Path:
    """Disc photo number ``k`` (its own size) at ``path``: PNG, or JPEG/WebP by suffix."""
    image, _ = red_disc_image(*SIZES[k % len(SIZES)])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        save_png(path, float_to_uint8(image))
    else:
        kind = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}[path.suffix.lower()]
        Image.fromarray(float_to_uint8(image)).save(path, kind, **({"quality": 95} if kind == "JPEG" else {"lossless": True}))
    return path


def write_folder(root: Path, names: list[str]) -> Path:
    for k, name in enumerate(names):
        write_photo(root / name, k)
    return root


def softcut(*args, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """``softcut ARGS`` in a child process, waited for; stdout and stderr as text."""
    done = subprocess.run([sys.executable, "-m", "softcut_app.commands", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, timeout=timeout, env={**os.environ, **(env or {})})
    assert "Traceback" not in done.stderr, done.stderr
    return done


def start(*args, env: dict | None = None) -> subprocess.Popen:
    """``softcut ARGS`` started in a child process (stdout and stderr captured as text)."""
    return subprocess.Popen([sys.executable, "-m", "softcut_app.commands", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, **(env or {})})


def summary(done: subprocess.CompletedProcess) -> dict:
    """The ``--json`` run's summary line."""
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    found = [line["summary"] for line in lines if "summary" in line]
    assert found, done.stdout + done.stderr
    return found[-1]


def records(dst: Path) -> list[dict]:
    """The manifest's whole lines, without the run headers."""
    path = dst / MANIFEST
    lines = path.read_text().split("\n")[:-1] if path.exists() else []
    return [r for r in map(json.loads, lines) if "input" in r]


def done_inputs(dst: Path) -> list[str]:
    return sorted(r["input"] for r in records(dst) if r["status"] == "done")


def files_below(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def rgba(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"), np.int16)


def assert_same_outputs(cut_dir: Path, batch_dir: Path) -> None:
    """The same files, alpha within 1/255, colours within 1/255 where the alpha is not 0."""
    assert files_below(batch_dir) == files_below(cut_dir)
    for name in files_below(cut_dir):
        a, b = rgba(cut_dir / name), rgba(batch_dir / name)
        assert a.shape == b.shape, name
        assert np.abs(a[..., 3] - b[..., 3]).max() <= 1, name
        seen = (a[..., 3] > 0) & (b[..., 3] > 0)
        assert np.abs(a[..., :3] - b[..., :3])[seen].max(initial=0) <= 1, name


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_for(condition, child: subprocess.Popen | None = None, *, limit: float = 600) -> None:
    """Poll ``condition()`` until true; fail if ``child`` exits first (or after ``limit`` s, a guard only)."""
    deadline = time.monotonic() + limit
    while not condition():
        if child is not None and child.poll() is not None:
            err = child.stderr.read()[-1500:] if child.stderr else ""
            raise AssertionError(f"the process exited ({child.returncode}) first: {err}")
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.05)
