"""`softcut object`, end to end in a child process with the tiny ONNX model: a box picks one of
two objects, a click corrects an earlier alpha, and bad prompts are refused by name."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from test_cli import softcut
from test_objects import LEFT, RIGHT, _disc

from core.imageio import float_to_uint8, load_grey, save_png

H, W = 160, 240


def _two_discs(tmp_path):
    left, right = _disc(LEFT), _disc(RIGHT)
    alpha = np.maximum(left, right)
    image = alpha[..., None] * np.array([0.9, 0.15, 0.1]) + (1 - alpha[..., None]) * np.array([0.15, 0.3, 0.8])
    path = tmp_path / "discs.png"
    save_png(path, float_to_uint8(image.astype(np.float32)))
    return path, left, right


def test_a_box_picks_one_object_and_a_click_corrects_the_result(tmp_path, tiny_model):
    path, left, right = _two_discs(tmp_path)
    out, alpha_out = tmp_path / "object.png", tmp_path / "object.alpha.png"
    done = softcut("object", path, "-o", out, "--alpha-out", alpha_out, "--box", "148,48,213,113",
                   "--model", tiny_model, "--device", "cpu", "--json", check=True)
    result = json.loads(done.stdout)
    assert result["output"] == str(out) and result["model_runs"] == 2  # the whole frame, then the box's crop
    assert np.asarray(Image.open(out)).shape == (H, W, 4)
    alpha = load_grey(alpha_out) / 255.0
    assert ((alpha >= 0.5) == (right >= 0.5)).mean() > 0.99 and alpha[left > 0.5].max() == 0
    both = tmp_path / "both.png"
    save_png(both, float_to_uint8(np.maximum(left, right)))
    corrected = tmp_path / "corrected.alpha.png"
    softcut("object", path, "-o", tmp_path / "c.png", "--alpha-out", corrected, "--previous", both,
            "--point", f"{RIGHT[0]:g},{RIGHT[1]:g},-", "--model", tiny_model, "--device", "cpu", check=True)
    alpha = load_grey(corrected) / 255.0
    assert alpha[right > 0.5].max() < 0.05 and ((alpha >= 0.5) == (left >= 0.5)).mean() > 0.99


def test_bad_prompts_are_refused_by_name(tmp_path, tiny_model):
    """Bad prompts are usage errors: exit 2, as every command's (the README's exit codes)."""
    path, _, _ = _two_discs(tmp_path)
    common = ("--model", tiny_model, "--device", "cpu")
    done = softcut("object", path, "-o", tmp_path / "o.png", "--point", "10,10,?", *common)
    assert done.returncode == 2 and "x,y,+ or x,y,-" in done.stderr
    done = softcut("object", path, "-o", tmp_path / "o.png", "--box", "10,10,500,5", *common)
    assert done.returncode == 2 and "box" in done.stderr and not (tmp_path / "o.png").exists()
    small = tmp_path / "small.png"
    save_png(small, np.zeros((10, 10), np.uint8))
    done = softcut("object", path, "-o", tmp_path / "o.png", "--mask", small, "--mode", "add", *common)
    assert done.returncode == 2 and "--mask" in done.stderr and "10×10" in done.stderr
    done = softcut("object", path, "-o", tmp_path / "o.png", *common)
    assert done.returncode == 2 and "no prompt" in done.stderr


def test_the_sam_backend_uses_rembgs_files_and_says_where_it_looked(tmp_path, monkeypatch):
    from testing.sam_standin import build_sam_standin

    path, _, _ = _two_discs(tmp_path)
    home = tmp_path / "u2net"
    monkeypatch.setenv("U2NET_HOME", str(home))  # the child inherits it
    common = ("--backend", "sam", "--device", "cpu", "--refine", "none")
    done = softcut("object", path, "-o", tmp_path / "o.png", "--box", "148,48,213,113", *common)
    assert done.returncode == 2 and str(home) in done.stderr and "sam_vit_b_01ec64.encoder.onnx" in done.stderr
    build_sam_standin(home)  # a box comes back as the box: the stand-in's answer
    out, alpha_out = tmp_path / "object.png", tmp_path / "object.alpha.png"
    done = softcut("object", path, "-o", out, "--alpha-out", alpha_out, "--box", "148,48,213,113", *common, "--json",
                   check=True)
    result = json.loads(done.stdout)
    assert (result["backend"], result["model"], result["model_runs"]) == ("sam", "sam_vit_b_01ec64", 1)
    ys, xs = np.nonzero(load_grey(alpha_out) >= 128)
    assert abs(xs.min() - 148) <= 1 and abs(xs.max() + 1 - 213) <= 1 and abs(ys.min() - 48) <= 1
    assert abs(ys.max() + 1 - 113) <= 1
    assert "--backend {model,sam}" in softcut("object", "--help").stdout
