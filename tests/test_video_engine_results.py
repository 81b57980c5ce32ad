"""Video streams through the engine (video_start / video_frame / video_end, issue 10), what comes back:
a real ``softcut serve`` on loopback with the tiny model, driven by the client's video_matte. Frames come
back in order and equal core.video.pipeline.matte_frames run in-process, with every output, edge control,
PNG and clean plate; ``softcut client video`` writes one cut-out per frame."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sample_images import plate_scene, textured
from test_server import module_engine
from video_stream_support import H, W, buffers, disc_frames, grey, reference

from core.composite import cutout_rgba
from core.edges import EdgeControls
from core.imageio import float_to_uint8
from core.models.session import open_session
from core.subject.options import MatteOptions
from core.video.pipeline import VideoOptions
from wire.client import raw_image


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """One engine with the tiny model for the module's tests (``engine.model``: its path)."""
    yield from module_engine(tmp_path_factory, "video-engine")


@pytest.fixture(scope="module")
def predict(engine):
    """The engine's model, in this process."""
    return open_session(str(engine.model), device="cpu").predict


def test_frames_come_back_in_order_and_equal_the_in_process_pipeline(engine, predict):
    frames = disc_frames(7)
    with engine.client() as client:
        results = list(client.video_matte(buffers(frames), window=3))
        summary = client.last_video
    assert [r.fields["index"] for r in results] == list(range(7))
    assert len({r.fields["frame"] for r in results}) == 7
    assert all(0 <= r.fields["confidence"] <= 1 for r in results)
    assert all(list(r.buffers) == ["alpha"] and r.specs["alpha"].format == "grey8" for r in results)
    expected = reference(frames, predict)
    for got, want in zip(results, expected):
        assert np.abs(grey(got.buffers["alpha"]) - float_to_uint8(want.alpha)).max() <= 1, got.fields["index"]
    assert summary["frames"] == 7 and summary["device"] == "cpu"
    assert {"decode", "model", "refine", "finish"} <= set(summary["timings"])


def test_cutout_and_foreground_with_edges_and_png(engine, predict):
    frames = disc_frames(4)
    with engine.client() as client:
        results = list(client.video_matte(buffers(frames), outputs=["cutout", "foreground", "alpha"],
                                          edges={"shift_edge": 30}, smoothing=0.5, delay=False))
        pngs = list(client.video_matte(buffers(frames), outputs=["cutout"], format="png"))
    options = VideoOptions(matte=MatteOptions(refine="fast", edges=EdgeControls(shift_edge=30)), delay=False,
                           smoothing=0.5)
    expected = reference(frames, predict, options)
    plain = reference(frames, predict)
    for got, want, unshifted in zip(results, expected, plain):
        assert list(got.buffers) == ["cutout", "foreground", "alpha"]
        alpha = grey(got.buffers["alpha"])
        assert np.abs(alpha - float_to_uint8(want.alpha)).max() <= 1
        assert alpha.sum() > float_to_uint8(unshifted.alpha).astype(int).sum(), "the edge moved outwards"
        foreground = np.frombuffer(got.buffers["foreground"], np.uint8).reshape(H, W, 3).astype(int)
        assert np.abs(foreground - float_to_uint8(want.foreground)).max() <= 1
        cutout = np.frombuffer(got.buffers["cutout"], np.uint8).reshape(H, W, 4).astype(int)
        assert np.abs(cutout - cutout_rgba(want.foreground, want.alpha)).max() <= 1
    for got, want in zip(pngs, plain):
        assert got.specs["cutout"].format == "png"
        decoded = np.asarray(Image.open(io.BytesIO(got.buffers["cutout"]))).astype(int)
        assert decoded.shape == (H, W, 4)
        assert np.abs(decoded - cutout_rgba(want.foreground, want.alpha)).max() <= 1


def test_a_clean_plate_helps_every_frame(engine, predict):
    image, plate, truth = plate_scene()
    h, w = truth.shape
    rng = np.random.default_rng(1)
    frames = [np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8) for _ in range(3)]
    # an rgba8 plate whose right third is transparent (no plate there), as an editor layer may be
    layer = np.dstack([plate, np.full((h, w), 255, np.uint8)])
    layer[:, 2 * w // 3:, 3] = 0
    with engine.client() as client:
        results = list(client.video_matte(buffers(frames), plate=raw_image(w, h, "rgb8", plate.tobytes(), name="plate")))
        plain = list(client.video_matte(buffers(frames)))
        masked = list(client.video_matte(buffers(frames), plate=raw_image(w, h, "rgba8", layer.tobytes(), name="plate")))
        assert client.last_video["timings"]["plate"] > 0 and client.last_video["frames_without_plate"] == 0
        elsewhere = textured(h, w, seed=11)  # a plate of another scene: no frame can be aligned to it
        unaligned = list(client.video_matte(buffers(frames), plate=raw_image(w, h, "rgb8", elsewhere.tobytes(),
                                                                            name="plate")))
        assert client.last_video["frames_without_plate"] == len(frames), "each frame matted without the plate"
    for got, want in zip(unaligned, plain):
        assert got.buffers["alpha"] == want.buffers["alpha"]
    expected = reference(frames, predict, plate=plate.astype(np.float32) / 255.0)
    expected_masked = reference(frames, predict, plate=plate.astype(np.float32) / 255.0,
                                plate_mask=layer[:, :, 3] >= 128)
    for got, without, part, want, want_part in zip(results, plain, masked, expected, expected_masked):
        alpha = grey(got.buffers["alpha"], h, w)
        assert np.abs(alpha - float_to_uint8(want.alpha)).max() <= 1
        assert np.abs(grey(part.buffers["alpha"], h, w) - float_to_uint8(want_part.alpha)).max() <= 1
        error = np.abs(alpha / 255.0 - truth).mean()
        assert error < 0.5 * np.abs(grey(without.buffers["alpha"], h, w) / 255.0 - truth).mean(), \
            "the plate removes the red shapes the model takes for the subject"



def test_softcut_client_video_writes_one_cutout_per_frame(engine, predict, tmp_path):
    import os
    import subprocess
    import sys

    from core.imageio import save_png

    frames = disc_frames(4)
    source = tmp_path / "in"
    source.mkdir()
    names = ["frame1", "frame2", "frame9", "frame10"]  # natural order, not the names' order
    for name, f in zip(names, frames):
        save_png(source / f"{name}.png", f)
    env = {**os.environ, "SOFTCUT_CONFIG": str(engine.config)}
    done = subprocess.run([sys.executable, "-m", "softcut_app.cli", "client", "video", str(source),
                           str(tmp_path / "out"), "--port", str(engine.port), "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"frames": 4' in done.stdout
    expected = reference(frames, predict)
    for name, want in zip(names, expected):
        cutout = np.asarray(Image.open(tmp_path / "out" / f"{name}.png")).astype(int)
        assert np.abs(cutout[:, :, 3] - float_to_uint8(want.alpha)).max() <= 1


def test_client_video_refuses_frames_that_would_write_the_same_output(tmp_path, capsys):
    from core.imageio import save_png
    from softcut_app.cli import main

    frames = disc_frames(2)
    source = tmp_path / "in"
    source.mkdir()
    save_png(source / "f.png", frames[0])
    Image.fromarray(float_to_uint8(frames[1])).save(source / "f.jpg")
    assert main(["client", "video", str(source), str(tmp_path / "out"), "--port", "1"]) != 0
    assert "f.jpg and f.png would both be written as f.png" in capsys.readouterr().err
    assert not (tmp_path / "out").exists(), "refused before anything is written or sent"
