"""`softcut sample --cut`, the README's first command: the sample photo, its cut-out, and the cut-out's
SAD against the matte the sample was drawn with, printed as measured on the file written. A real
child process; the tiny ONNX model here (the real model's run of the same command is in
tests/test_real_model.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from core.eval.metrics import sad
from core.sample import furry_subject

REPO = Path(__file__).resolve().parents[1]


def softcut(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "softcut_app.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=600)


def test_sample_cut_writes_the_cutout_and_prints_its_sad_against_the_known_matte(tmp_path, tiny_model):
    image, truth = furry_subject()
    common = ["--model", tiny_model, "--device", "cpu", "--refine", "fast"]
    done = softcut("sample", "-o", tmp_path / "sample.png", "--cut", tmp_path / "cutout.png", *common, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    photo = np.asarray(Image.open(tmp_path / "sample.png"))
    assert np.abs(photo.astype(int) - np.round(image * 255).astype(int)).max() <= 1  # the sample itself
    rgba = np.asarray(Image.open(tmp_path / "cutout.png"))
    assert rgba.shape == (*truth.shape, 4)
    measured = sad(rgba[:, :, 3] / 255.0, truth, np.ones(truth.shape, bool))
    assert summary["sad"] == round(measured, 2) and summary["cutout"] == str(tmp_path / "cutout.png")
    assert summary["refine"] == "fast" and summary["device"] == "cpu"
    assert rgba[:, :, 3].min() < 128 < rgba[:, :, 3].max()  # a matte, not a flat plane (how good: the real model's)

    done = softcut("sample", "-o", tmp_path / "again.png", "--cut", tmp_path / "again_cut.png", *common)
    assert done.returncode == 0, done.stderr
    said = re.search(r"SAD (\d+\.\d) against the sample's known matte", done.stdout)
    assert said and float(said.group(1)) == round(measured, 1), done.stdout


def test_a_jpeg_cutout_is_refused_before_any_work(tmp_path):
    done = softcut("sample", "-o", tmp_path / "sample.png", "--cut", tmp_path / "cutout.jpg",
                   "--model", tmp_path / "no-such-model.onnx")
    assert done.returncode == 2 and "cutout.jpg" in done.stderr and "transparency" in done.stderr
    assert list(tmp_path.iterdir()) == []
