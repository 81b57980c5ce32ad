"""The small clip the ``softcut video`` tests run on, generated (no shared data needed): the
sample's furry subject (:func:`core.sample.furry_subject`) gliding over a bluish textured ground
(:func:`testing.video_synthetic.moving_subject`), and the helpers that write it, run the CLI on it
and compare its outputs with :func:`core.video.pipeline.matte_frames` run directly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from sample_images import textured
from core.imageio import float_to_uint8, save_png
from core.video.pipeline import VideoOptions, matte_frames

W, H, FRAMES = 160, 120, 8
TOLERANCE = 1.0 / 255.0
REPO = Path(__file__).resolve().parents[1]


def clip() -> tuple[list[np.ndarray], np.ndarray]:
    """(the FRAMES frames, (H, W, 3) float32 each; the ground they move over, (H, W, 3) float32).
    The subject is reddish, the ground bluish: the tiny "red" model tells them apart."""
    from core.sample import furry_subject
    from testing.plate_synthetic import estimate_foreground
    from testing.video_synthetic import moving_subject

    image, alpha = furry_subject(width=W, height=H)
    foreground = estimate_foreground(image, alpha)
    ground = cv2.resize(textured(2 * H, 2 * W, seed=5), (W, H), interpolation=cv2.INTER_AREA)  # fine detail: a plate aligns
    back = ground.astype(np.float32) / 255.0 * np.float32([0.3, 0.5, 1.0])
    frames = [f.image for f in moving_subject(foreground, alpha, back, FRAMES, np.random.default_rng(1))]
    return frames, back


def write_frames(folder: Path, frames: list[np.ndarray]) -> Path:
    """``frames`` as f1.png … fN.png in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, image in enumerate(frames, start=1):
        save_png(folder / f"f{k}.png", float_to_uint8(image))
    return folder


def read_frames(folder: Path, count: int = FRAMES) -> list[np.ndarray]:
    """f1.png … fN.png of ``folder`` as (H, W, 3) float32 in [0, 1] (what the CLI decodes)."""
    return [np.asarray(Image.open(folder / f"f{k}.png").convert("RGB"), np.float32) / 255.0
            for k in range(1, count + 1)]


def reference(images: list[np.ndarray], session, **plate) -> list[tuple[np.ndarray, np.ndarray]]:
    """(alpha, foreground) per frame from matte_frames with the CLI's default options."""
    return [(f.alpha, f.foreground) for f in matte_frames(images, session.predict, VideoOptions(), **plate)]


def assert_frames_match(folder: Path, ref) -> None:
    """The RGBA PNGs f1.png … of ``folder`` are ``ref``'s alphas and foregrounds, to a level."""
    for k, (alpha, foreground) in enumerate(ref, start=1):
        rgba = np.asarray(Image.open(folder / f"f{k}.png"))
        assert rgba.shape == (H, W, 4)
        assert np.abs(rgba[:, :, 3] / 255.0 - alpha).max() <= TOLERANCE, f"f{k}.png alpha"
        colour = float_to_uint8(foreground).astype(int)
        assert np.abs(rgba[:, :, :3].astype(int) - colour).max() <= 1, f"f{k}.png colours"


def softcut_process(*args, **popen) -> subprocess.Popen:
    """``softcut ARGS…`` in a child process (stdout and stderr captured as text), run from the repo."""
    return subprocess.Popen([sys.executable, "-m", "softcut_app.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO, **popen)


def finish(child: subprocess.Popen, timeout: float, what: str) -> tuple[int, str, str]:
    """Wait for ``child`` to exit: (exit code, stdout, stderr); killed, and an AssertionError saying
    ``what`` and the end of its stderr, when it is still running after ``timeout`` s."""
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        raise AssertionError(f"{what} still ran after {timeout} s: {err[-800:]}") from None
    return child.returncode, out, err


def softcut_run(*args, timeout: float = 300) -> tuple[int, str, str]:
    """``softcut ARGS…`` in a child process, waited for: (exit code, stdout, stderr)."""
    return finish(softcut_process(*args), timeout, f"softcut {' '.join(map(str, args))}")
