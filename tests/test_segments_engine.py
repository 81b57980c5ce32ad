"""soft_segments through the engine (a real `softcut serve` on loopback, the tiny model) and
`softcut layers` through the CLI: buffers, stacked and soft masks, errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from sample_images import red_disc_image
from core.composite import stacked_masks
from core.imageio import float_to_uint8, save_png
from wire.client import EngineError, raw_image
from test_cli import softcut
from test_server import Engine


def two_regions(h: int = 72, w: int = 96) -> np.ndarray:
    """(h, w, 3) uint8: a red disc with a soft rim on blue (the tiny model's subject on its ground)."""
    image, _ = red_disc_image(h, w)
    return float_to_uint8(image)


def stack(layers: np.ndarray) -> np.ndarray:
    """Normal blending, bottom (layer 0) to top: (K, H, W, 4) uint8 straight RGBA → (H, W, 3) float in [0, 1]."""
    out = np.zeros(layers.shape[1:3] + (3,))
    for layer in layers.astype(np.float64) / 255.0:
        a = layer[:, :, 3:]
        out = a * layer[:, :, :3] + (1 - a) * out
    return out


def test_the_protocol_and_the_core_agree_on_counts_and_masks():
    from core.segments import LAYER_MASKS
    from core.segments._inputs import MAX_COUNT, MIN_COUNT
    from wire.protocol import schemas

    assert (schemas.SEGMENTS_MIN, schemas.SEGMENTS_MAX) == (MIN_COUNT, MAX_COUNT)
    assert set(schemas.SEGMENT_MASKS) == set(LAYER_MASKS) and schemas.MAX_BUFFERS >= MAX_COUNT


def test_stacked_masks_give_back_the_image_with_normal_blending():
    rng = np.random.default_rng(0)
    alphas = rng.random((4, 20, 30)).astype(np.float32)
    alphas[1, :5] = 0.0  # a segment absent somewhere
    alphas /= alphas.sum(axis=0)
    colours = rng.random((4, 20, 30, 3)).astype(np.float32)
    masks = stacked_masks(alphas)
    assert masks.min() >= 0 and masks.max() <= 1 and np.all(masks[0] == 1.0)
    layers = np.concatenate([colours, masks[..., None]], axis=3)
    image = np.einsum("khw,khwc->hwc", alphas, colours)
    composite = np.zeros_like(image)
    for layer in layers:
        composite = layer[:, :, 3:] * layer[:, :, :3] + (1 - layer[:, :, 3:]) * composite
    assert np.abs(composite - image).max() < 1e-5


def test_the_engine_returns_stacked_layers_that_give_back_the_image(tmp_path, tiny_model):
    pixels = two_regions()
    h, w = pixels.shape[:2]
    engine = Engine(tmp_path, tiny_model)
    try:
        with engine.client() as client:
            image = raw_image(w, h, "rgb8", pixels.tobytes())
            result = client.soft_segments(image, count=3)
            soft = client.soft_segments(image, count=3, masks="soft", format="png")
            with pytest.raises(EngineError) as refused:
                client.soft_segments(image, count=11)
    finally:
        engine.stop()
    assert result.fields["count"] == 3 and result.fields["semantic"] is False  # the tiny model has no features
    assert set(result.fields["timings"]) == {"decode", "features", "segments", "encode"}
    layers = np.stack([np.frombuffer(result.buffers[f"segment{k}"], np.uint8).reshape(h, w, 4) for k in range(3)])
    coverage = np.zeros((h, w))
    for layer in layers[:, :, :, 3] / 255.0:
        coverage = layer + (1 - layer) * coverage
    assert coverage.min() > 0.99, "the stack is opaque"
    error = np.abs(stack(layers) - pixels / 255.0)
    assert error.mean() < 1.5 / 255 and np.percentile(error, 99.9) < 6 / 255
    own = np.stack([np.asarray(Image.open(io.BytesIO(soft.buffers[f"segment{k}"]))) for k in range(3)])
    assert own.shape == (3, h, w, 4)
    total = own[:, :, :, 3].astype(int).sum(axis=0)
    assert np.abs(total - 255).max() <= 2, "the soft alphas sum to one (8-bit rounding)"
    areas = own[:, :, :, 3].astype(int).sum(axis=(1, 2))
    assert list(areas) == sorted(areas, reverse=True), "largest segment first"
    assert refused.value.code == "bad_parameter" and "count" in str(refused.value)


def test_softcut_layers_writes_one_png_per_layer_and_a_preview(tmp_path, tiny_model):
    source = tmp_path / "disc.png"
    save_png(source, two_regions())
    done = softcut("layers", source, "-o", tmp_path / "out", "--count", "4", "--model", tiny_model, "--device", "cpu",
                   "--json", check=True)
    report = json.loads(done.stdout)
    assert report["count"] == 4 and report["semantic"] is False and "semantic" in done.stderr
    alphas = []
    for k, path in enumerate(report["layers"], start=1):
        assert path.endswith(f"disc.layer{k}.png")
        rgba = np.asarray(Image.open(path))
        assert rgba.shape == (72, 96, 4)
        alphas.append(rgba[:, :, 3].astype(int))
    assert np.abs(np.sum(alphas, axis=0) - 255).max() <= 2
    sheet = np.asarray(Image.open(report["preview"]))
    first = sheet[:240, :320].astype(float)  # the input, 320 px wide (the tile size)
    expected = np.asarray(Image.fromarray(two_regions()).resize((320, 240), Image.BILINEAR)).astype(float)
    assert np.abs(first - expected).mean() < 8, "the sheet starts with the input"
    bad = softcut("layers", source, "-o", tmp_path / "bad", "--count", "1", "--model", tiny_model)
    assert bad.returncode != 0 and "count" in bad.stderr
