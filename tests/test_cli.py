"""The `softcut` command line, end to end in a child process, with a tiny ONNX model."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sample_images import SHARED_DATA, needs_shared_data, red_disc_image
from core.imageio import float_to_uint8, load_grey, save_png
from core.models import registry


def softcut(*args: str, env_home: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    if env_home is not None:
        env["SOFTCUT_HOME"] = str(env_home)
    done = subprocess.run([sys.executable, "-m", "softcut_app.commands", *map(str, args)], capture_output=True, text=True, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"softcut {' '.join(map(str, args))} failed:\n{done.stderr}")
    return done


@pytest.fixture
def disc_png(tmp_path) -> Path:
    image, _ = red_disc_image(150, 200)
    path = tmp_path / "disc.png"
    save_png(path, float_to_uint8(image))
    return path


def test_cut_writes_rgba_alpha_and_trimap_at_input_size(tmp_path, tiny_model, disc_png):
    out, alpha_out, trimap_out = tmp_path / "cut.png", tmp_path / "a.png", tmp_path / "t.png"
    done = softcut("cut", disc_png, "-o", out, "--alpha-out", alpha_out, "--trimap-out", trimap_out,
                   "--model", tiny_model, "--device", "cpu", "--refine", "fast", "--json", check=True)
    result = json.loads(done.stdout)
    assert result["output"] == str(out) and result["device"] == "cpu"
    rgba = np.asarray(Image.open(out))
    assert rgba.shape == (150, 200, 4)
    _, true_alpha = red_disc_image(150, 200)
    alpha = load_grey(alpha_out) / 255.0
    assert alpha.shape == (150, 200)
    assert np.abs(alpha - true_alpha).mean() < 0.03
    np.testing.assert_array_equal(rgba[..., 3], load_grey(alpha_out))
    assert set(np.unique(load_grey(trimap_out))) <= {0, 128, 255}


def test_cut_batch_goes_on_past_a_corrupt_file(tmp_path, tiny_model, disc_png):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    outdir = tmp_path / "out"
    done = softcut("cut", bad, disc_png, "-o", outdir, "--model", tiny_model, "--device", "cpu", "--refine", "none")
    assert done.returncode == 1
    assert "broken.jpg" in done.stderr
    assert (outdir / "disc.png").is_file() and not (outdir / "broken.png").exists()


def test_cut_refuses_images_over_the_pixel_limit(tmp_path, tiny_model, disc_png):
    done = softcut("cut", disc_png, "-o", tmp_path / "x.png", "--model", tiny_model, "--max-pixels", "1000")
    assert done.returncode == 1 and "over the limit" in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_cut_over_a_flat_colour(tmp_path, tiny_model, disc_png):
    out = tmp_path / "flat.png"
    softcut("cut", disc_png, "-o", out, "--model", tiny_model, "--bg-color", "#00ff00", "--refine", "fast",
            "--feather", "1", "--quiet", check=True)
    rgb = np.asarray(Image.open(out))
    assert rgb.shape == (150, 200, 3)
    assert tuple(rgb[0, 0]) == (0, 255, 0)
    assert rgb[75, 100, 0] > 200  # the red disc stays red


def test_refine_trimap_and_mask(tmp_path, disc_png):
    image, true_alpha = red_disc_image(150, 200)
    trimap = np.where(true_alpha > 0.99, 255, np.where(true_alpha < 0.01, 0, 128)).astype(np.uint8)
    import cv2

    trimap = cv2.erode(trimap, np.ones((5, 5), np.uint8))  # widen the unknown band
    trimap = np.where((trimap == 0) & (true_alpha > 0.01), 128, trimap).astype(np.uint8)
    save_png(tmp_path / "tri.png", trimap)
    for mode in ("fast", "best"):
        out = tmp_path / f"alpha_{mode}.png"
        softcut("refine", disc_png, "--trimap", tmp_path / "tri.png", "-o", out, "--refine", mode, check=True)
        alpha = load_grey(out) / 255.0
        assert alpha.shape == (150, 200)
        assert (alpha[trimap == 255] == 1).all() and (alpha[trimap == 0] == 0).all()
        assert np.abs(alpha - true_alpha)[trimap == 128].mean() < 0.1
    save_png(tmp_path / "rough.png", ((true_alpha > 0.5) * 255).astype(np.uint8))
    softcut("refine", disc_png, "--mask", tmp_path / "rough.png", "-o", tmp_path / "m.png", check=True)
    assert np.abs(load_grey(tmp_path / "m.png") / 255.0 - true_alpha).mean() < 0.02
    softcut("trimap", disc_png, "--mask", tmp_path / "rough.png", "-o", tmp_path / "t.png", check=True)
    assert set(np.unique(load_grey(tmp_path / "t.png"))) == {0, 128, 255}


def test_refine_rejects_a_trimap_of_another_size(tmp_path, disc_png):
    save_png(tmp_path / "small.png", np.zeros((10, 10), np.uint8))
    done = softcut("refine", disc_png, "--trimap", tmp_path / "small.png", "-o", tmp_path / "a.png")
    assert done.returncode == 2 and "differs from the image" in done.stderr


@needs_shared_data
def test_eval_trimap_mode_writes_csv(tmp_path):
    csv_path = tmp_path / "eval.csv"
    done = softcut("eval", "alphamatting", "--data", SHARED_DATA, "--mode", "trimap", "--refine", "fast",
                   "--images", "GT02,GT04", "--csv", csv_path, "--json", check=True)
    summary = json.loads(done.stdout)
    assert [r["image"] for r in summary["rows"]] == ["GT02", "GT04"]
    rows = list(csv.reader(open(csv_path)))
    assert rows[0][:6] == ["image", "method", "sad", "mse", "grad", "conn"]
    assert [r[:2] for r in rows[1:]] == [["GT02", "fast"], ["GT04", "fast"], ["mean", "fast"], ["median", "fast"]]
    assert 0 < float(rows[3][2]) < 30


def test_models_and_sample_commands(tmp_path):
    done = softcut("models", "path", "isnet", env_home=tmp_path, check=True)
    assert done.stdout.strip() == str(tmp_path / "models" / "isnet-imgly-fp32.onnx")
    listing = softcut("models", "list", "--json", env_home=tmp_path, check=True)
    names = [json.loads(line)["name"] for line in listing.stdout.splitlines()]
    assert names == list(registry.MODELS)
    softcut("sample", "-o", tmp_path / "s.png", "--alpha-out", tmp_path / "sa.png", check=True)
    assert np.asarray(Image.open(tmp_path / "s.png")).shape == (720, 960, 3)
    alpha = load_grey(tmp_path / "sa.png")
    assert 0.1 < (alpha > 0).mean() < 0.9 and ((alpha > 0) & (alpha < 255)).mean() > 0.02


def test_trimap_from_the_model(tmp_path, tiny_model, disc_png):
    out = tmp_path / "t.png"
    softcut("trimap", disc_png, "-o", out, "--model", tiny_model, check=True)
    trimap = load_grey(out)
    _, truth = red_disc_image(150, 200)
    assert trimap.shape == truth.shape
    assert (truth[trimap == 255] > 0.9).all() and (truth[trimap == 0] < 0.1).all()
    assert (trimap == 128).sum() > 0


def test_no_subject_is_reported_not_silent(tmp_path, tiny_model):
    blue = np.zeros((80, 100, 3), np.uint8)
    blue[..., 2] = 200  # nothing reddish: the tiny model finds no subject in any view
    save_png(tmp_path / "blue.png", blue)
    done = softcut("cut", tmp_path / "blue.png", "-o", tmp_path / "c.png", "--model", tiny_model, "--json", check=True)
    assert "unsure about the subject" in done.stderr
    result = json.loads(done.stdout)
    assert result["low_confidence"] is True and result["confidence"] < 0.5


def _has_cuda() -> bool:
    from core.providers import available_providers

    return "CUDAExecutionProvider" in available_providers()


@pytest.mark.skipif(_has_cuda(), reason="this onnxruntime has CUDA: nothing is missing")
def test_asking_for_a_missing_gpu_fails_loudly(tmp_path, tiny_model, disc_png):
    done = softcut("cut", disc_png, "-o", tmp_path / "c.png", "--model", tiny_model, "--device", "cuda")
    assert done.returncode == 2
    assert "cuda requested" in done.stderr and "--device cpu" in done.stderr
    # --device auto on the CPU: a warning where a GPU sits unused, else silence (doctor says it):
    # tests/test_cli_exit_codes.py checks both sides


def test_client_video_defaults_are_the_video_pipeline_s():
    from core.video.pipeline import DEFAULT_VIDEO_REFINE, VideoOptions
    from wire.protocol import schemas

    assert (schemas.DEFAULT_VIDEO_REFINE, schemas.DEFAULT_SMOOTHING) == (DEFAULT_VIDEO_REFINE, VideoOptions().smoothing)


def test_the_commands_matting_defaults_are_the_protocol_s():
    from softcut_app.cli import build_parser
    from wire.protocol.schemas import DEFAULT_MAX_QUEUED_PER_CLIENT, defaults

    parse = lambda *argv: vars(build_parser().parse_args(argv))  # noqa: E731
    for args, request in ((parse("cut", "a.png", "-o", "b.png"), "select_subject"),
                          (parse("video", "in", "-o", "out"), "video_start")):
        want = defaults(request)
        assert {k: args[k] for k in ("refine", "band", "decontaminate", *want["edges"])} == \
            {"refine": want["refine"], "band": want["band"], "decontaminate": want["decontaminate"], **want["edges"]}
    assert parse("video", "in", "-o", "out")["smoothing"] == defaults("video_start")["smoothing"]
    assert parse("trimap", "a.png", "-o", "t.png")["band"] == defaults("trimap")["band"]
    assert parse("refine", "a.png", "--mask", "m.png", "-o", "o.png")["refine"] == defaults("refine")["mode"]
    assert parse("layers", "a.png", "-o", "out")["count"] == defaults("soft_segments")["count"]
    assert parse("client", "select-subject", "a.png", "-o", "o.png")["refine"] == defaults("select_subject")["refine"]
    client_video = parse("client", "video", "in", "out")
    assert (client_video["refine"], client_video["smoothing"]) == (defaults("video_start")["refine"],
                                                                   defaults("video_start")["smoothing"])
    assert parse("serve")["max_queued"] == DEFAULT_MAX_QUEUED_PER_CLIENT
