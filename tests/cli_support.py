"""Running the `softcut` command in a child process for the CLI convention tests (inputs, outputs,
exit codes, watch, client): bytes in and out, a chosen environment, and the red-disc photo that the
tiny model (tests/tiny_models.py) finds exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from core.imageio import float_to_uint8, save_png
from sample_images import red_disc_image

SIZE = (150, 200)
"""The disc photo's (height, width)."""


def run(*args, stdin: bytes | None = None, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``softcut ARGS`` in a child process (``python -m softcut_app.commands``); stdout and stderr as bytes
    (``.stdout``), with ``.err`` the decoded stderr. ``env``: variables set (None: removed) over ours."""
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = str(value)
    done = subprocess.run([sys.executable, "-m", "softcut_app.commands", *map(str, args)], input=stdin,
                          capture_output=True, env=environment, timeout=timeout)
    done.err = done.stderr.decode(errors="replace")
    assert "Traceback" not in done.err, done.err
    return done


def ok(*args, **kw) -> subprocess.CompletedProcess:
    """:func:`run`, which must exit 0."""
    done = run(*args, **kw)
    assert done.returncode == 0, f"softcut {' '.join(map(str, args))} exited {done.returncode}:\n{done.err}"
    return done


def write_disc(path: Path) -> Path:
    """The red disc photo (PNG, or by suffix through Pillow, lossless where it can be) at ``path``; returns it."""
    from PIL import Image

    image, _ = red_disc_image(*SIZE)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        save_png(path, float_to_uint8(image))
    else:
        kind = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}[path.suffix.lower()]
        options = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}}.get(kind, {})
        Image.fromarray(float_to_uint8(image)).save(path, kind, **options)
    return path


def true_alpha() -> np.ndarray:
    """The disc photo's true alpha, (H, W) float in [0, 1]."""
    return red_disc_image(*SIZE)[1]


def write_corrupt(path: Path) -> Path:
    """A file that claims to be a JPEG and stops after its first marker."""
    path.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return path


TINY = ("--device", "cpu", "--refine", "fast")
"""Flags every local matting test passes after ``--model TINY_MODEL``."""
