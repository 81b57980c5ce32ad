"""plate_matte through the engine (a real `softcut serve` on loopback, the tiny model) and
`softcut cut --plate` through the CLI: outputs, alignment report, adjust_edges, errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from sample_images import plate_scene, textured
from core.eval import metrics
from core.imageio import save_png
from wire.client import EngineError, raw_image
from wire.protocol import messages
from test_cli import softcut
from test_server import module_engine


def sad(alpha: np.ndarray, truth: np.ndarray) -> float:
    """Whole-image SAD."""
    return metrics.sad(alpha, truth, np.ones(truth.shape, bool))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """One engine with the tiny model for the module's tests (``engine.model``: its path)."""
    yield from module_engine(tmp_path_factory, "plate-engine")


def test_the_engine_mattes_with_a_clean_plate_better_than_without(engine):
    image, plate, truth = plate_scene()
    h, w = truth.shape
    with engine.client() as client:
        buffer = raw_image(w, h, "rgb8", image.tobytes())
        # the plate as a PNG of another size: the engine aligns any size
        png = io.BytesIO()
        Image.fromarray(plate).resize((w * 3 // 2, h * 3 // 2), Image.BICUBIC).save(png, "PNG")
        plate_buffer = messages.buffer("plate", png.getvalue(), format="png", width=w * 3 // 2, height=h * 3 // 2)
        stages = []
        result = client.plate_matte(buffer, plate_buffer, outputs=["alpha", "cutout", "background", "trimap"],
                                    progress=lambda fraction, stage: stages.append(stage))
        plain = client.select_subject(buffer, outputs=["alpha"], refine="fast")
        adjusted = client.adjust_edges(result.fields["result"], edges={"shift_edge": 50}, outputs=["alpha"])
    alpha = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w) / 255.0
    plain_alpha = np.frombuffer(plain.buffers["alpha"], np.uint8).reshape(h, w) / 255.0
    assert sad(alpha, truth) < 0.4 * sad(plain_alpha, truth), "the plate removes the red shapes the model took"
    assert sad(alpha, truth) < 1.0
    alignment = result.fields["alignment"]
    assert alignment["inliers"] >= 30 and alignment["coverage"] > 0.9 and len(alignment["gain"]) == 3
    assert stages and result.fields["timings"]["align"] > 0
    background = np.frombuffer(result.buffers["background"], np.uint8).reshape(h, w, 3).astype(float)
    outside = truth == 0
    outside[:12], outside[-12:], outside[:, :12], outside[:, -12:] = False, False, False, False  # where it may not reach
    assert np.median(np.abs(background - image)[outside]) < 4, "the aligned plate reproduces the image's background"
    cutout = np.frombuffer(result.buffers["cutout"], np.uint8).reshape(h, w, 4)
    assert np.array_equal(cutout[:, :, 3], (alpha * 255).round().astype(np.uint8))
    assert set(np.unique(np.frombuffer(result.buffers["trimap"], np.uint8))) <= {0, 128, 255}
    shifted = np.frombuffer(adjusted.buffers["alpha"], np.uint8).reshape(h, w)
    assert shifted.astype(int).sum() > (alpha * 255).round().sum(), "adjust_edges works on a plate result"


def test_a_plate_of_another_scene_is_refused_clearly(engine):
    image, _, truth = plate_scene()
    h, w = truth.shape
    with engine.client() as client:
        buffer = raw_image(w, h, "rgb8", image.tobytes())
        with pytest.raises(EngineError) as other:
            client.plate_matte(buffer, raw_image(w, h, "rgb8", textured(h, w, seed=5).tobytes(), name="plate"))
        with pytest.raises(EngineError) as flat:
            client.plate_matte(buffer, raw_image(w, h, "rgb8", bytes([90]) * (w * h * 3), name="plate"))
        with pytest.raises(EngineError) as missing:
            client.request(messages.Message("plate_matte", "p1", fields={}, buffers=[buffer]))
        assert client.select_subject(buffer, refine="fast").fields["result"], "the engine still answers"
    assert other.value.code == "alignment_failed" and "does not match" in str(other.value)
    assert flat.value.code == "alignment_failed"
    assert missing.value.code == "bad_parameter" and "buffers" in str(missing.value)


def test_softcut_cut_with_a_plate(tmp_path, tiny_model):
    image, plate, truth = plate_scene()
    save_png(tmp_path / "photo.png", image)
    save_png(tmp_path / "plate.png", plate)
    done = softcut("cut", tmp_path / "photo.png", "--plate", tmp_path / "plate.png", "-o", tmp_path / "out.png",
                   "--alpha-out", tmp_path / "alpha.png", "--feather", "0.5", "--model", tiny_model,
                   "--device", "cpu", "--json", check=True)
    report = json.loads(done.stdout)
    assert report["plate"].endswith("plate.png") and report["alignment"]["inliers"] >= 30
    alpha = np.asarray(Image.open(tmp_path / "alpha.png")) / 255.0
    assert sad(alpha, truth) < 1.5
    rgba = np.asarray(Image.open(tmp_path / "out.png"))
    assert rgba.shape == truth.shape + (4,)
    save_png(tmp_path / "other.png", textured(*truth.shape, seed=5))
    bad = softcut("cut", tmp_path / "photo.png", "--plate", tmp_path / "other.png", "-o", tmp_path / "bad.png",
                  "--model", tiny_model, "--device", "cpu")
    assert bad.returncode != 0 and "clean plate" in bad.stderr and not (tmp_path / "bad.png").exists()
    missing = softcut("cut", tmp_path / "photo.png", "--plate", tmp_path / "nope.png", "-o", tmp_path / "bad.png",
                      "--model", tiny_model, "--device", "cpu")
    assert missing.returncode != 0 and "--plate" in missing.stderr


def test_softcut_client_with_a_plate_gives_the_cli_cutout(tmp_path, engine):
    import os
    import subprocess
    import sys

    image, plate, _ = plate_scene()
    save_png(tmp_path / "photo.png", image)
    save_png(tmp_path / "plate.png", plate)
    save_png(tmp_path / "other.png", textured(*image.shape[:2], seed=5))
    env = {**os.environ, "SOFTCUT_CONFIG": str(engine.config)}
    run = [sys.executable, "-m", "softcut_app.cli", "client", "select-subject", str(tmp_path / "photo.png"),
           "--port", str(engine.port)]
    via_engine = subprocess.run([*run, "--plate", str(tmp_path / "plate.png"), "-o", str(tmp_path / "e.png")],
                                capture_output=True, text=True, env=env)
    refused = subprocess.run([*run, "--plate", str(tmp_path / "other.png"), "-o", str(tmp_path / "bad.png")],
                             capture_output=True, text=True, env=env)
    assert via_engine.returncode == 0, via_engine.stderr
    assert refused.returncode != 0 and "alignment_failed" in refused.stderr and not (tmp_path / "bad.png").exists()
    softcut("cut", tmp_path / "photo.png", "--plate", tmp_path / "plate.png", "-o", tmp_path / "c.png",
            "--model", engine.model, "--device", "cpu", check=True)
    a = np.asarray(Image.open(tmp_path / "e.png")).astype(int)
    b = np.asarray(Image.open(tmp_path / "c.png")).astype(int)
    assert a.shape == b.shape == image.shape[:2] + (4,)
    assert np.abs(a[..., 3] - b[..., 3]).max() <= 1, "the engine and the CLI give the same matte"


def test_an_rgba_plate_layers_transparent_part_is_no_plate(engine):
    image, plate, truth = plate_scene()
    h, w = truth.shape
    layer = np.dstack([plate, np.full((h, w), 255, np.uint8)])
    layer[:, 2 * w // 3:] = 0  # e.g. the empty corner of a layer holding a smaller plate photo
    with engine.client() as client:
        buffer = raw_image(w, h, "rgb8", image.tobytes())
        masked = client.plate_matte(buffer, raw_image(w, h, "rgba8", layer.tobytes(), name="plate"))
        opaque = layer.copy()
        opaque[:, :, 3] = 255
        ignored = client.plate_matte(buffer, raw_image(w, h, "rgba8", opaque.tobytes(), name="plate"))
    assert 0.55 < masked.fields["alignment"]["coverage"] < 0.68
    right = np.zeros(truth.shape, bool)
    right[:, 2 * w // 3 + 4:] = True
    alpha = np.frombuffer(masked.buffers["alpha"], np.uint8).reshape(h, w) / 255.0
    black = np.frombuffer(ignored.buffers["alpha"], np.uint8).reshape(h, w) / 255.0
    assert np.abs(alpha - truth)[right].mean() < 0.7 * np.abs(black - truth)[right].mean(), \
        "where the layer is transparent the (misled) model decides, not a black plate that makes it all subject"
    assert sad(alpha, truth) < sad(black, truth)
