"""Shared fixtures: tiny ONNX models built in the test, sample images, the real model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"


def build_tiny_model(path: Path, *, size: int = 32, kind: str = "red") -> Path:
    """Write a tiny ONNX salient-object model to ``path``.

    Input ``input`` float32 [1, 3, size, size]; output ``output`` [1, 1, size, size].
    kind "red": output = sigmoid(8 · (channel0 − channel2)), i.e. "reddish pixels are
    the subject", so tests can predict the matte of synthetic images.
    kind "identity0": output = the normalised channel 0 as it entered (for checking
    the preprocessing arithmetic).
    """
    import onnx
    from onnx import TensorProto, helper

    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, size, size])
    inits = [
        helper.make_tensor("s0", TensorProto.INT64, [1], [0]),
        helper.make_tensor("e1", TensorProto.INT64, [1], [1]),
        helper.make_tensor("s2", TensorProto.INT64, [1], [2]),
        helper.make_tensor("e3", TensorProto.INT64, [1], [3]),
        helper.make_tensor("axis", TensorProto.INT64, [1], [1]),
        helper.make_tensor("gain", TensorProto.FLOAT, [], [8.0]),
    ]
    red = helper.make_node("Slice", ["input", "s0", "e1", "axis"], ["red"])
    if kind == "identity0":
        nodes = [red, helper.make_node("Identity", ["red"], ["output"])]
    elif kind == "red":
        nodes = [
            red,
            helper.make_node("Slice", ["input", "s2", "e3", "axis"], ["blue"]),
            helper.make_node("Sub", ["red", "blue"], ["diff"]),
            helper.make_node("Mul", ["diff", "gain"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["output"]),
        ]
    else:
        raise ValueError(kind)
    graph = helper.make_graph(nodes, "tiny", [inp], [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def write_sidecar(model: Path, **meta) -> Path:
    sidecar = model.with_suffix(".json")
    sidecar.write_text(json.dumps({"input_size": [32, 32], "mean": [0.0] * 3, "std": [1.0] * 3, **meta}))
    return sidecar


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """A user ONNX model (with sidecar) that calls reddish pixels the subject."""
    path = build_tiny_model(tmp_path / "tiny.onnx")
    write_sidecar(path)
    return path


def red_disc_image(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A red disc on a blue ground with a soft rim.

    Returns (image (h, w, 3) float32 [0, 1] RGB, true alpha (h, w) float32 [0, 1]).
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(yy - h / 2, xx - w / 2)
    alpha = np.clip((min(h, w) * 0.3 - r) / 3.0 + 0.5, 0.0, 1.0).astype(np.float32)
    fg = np.array([0.9, 0.2, 0.1], np.float32)
    bg = np.array([0.1, 0.3, 0.8], np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return image.astype(np.float32), alpha


@pytest.fixture(scope="session")
def real_home(tmp_path_factory) -> Path:
    """SOFTCUT_HOME for real-model tests: $SOFTCUT_TEST_HOME (a persistent cache) or a temp dir."""
    home = os.environ.get("SOFTCUT_TEST_HOME")
    return Path(home) if home else tmp_path_factory.mktemp("softcut_home")


@pytest.fixture(scope="session")
def real_session(real_home: Path):
    """The real default model, fetched through npm into the cache on first use."""
    from core.models import registry, store
    from core.models.session import MaskSession
    from core.providers import choose_providers

    old = os.environ.get("SOFTCUT_HOME")
    os.environ["SOFTCUT_HOME"] = str(real_home)
    try:
        spec = registry.get_spec("isnet")
        path = store.ensure(spec)
        yield MaskSession(spec, path, choose_providers("cpu"))
    finally:
        if old is None:
            os.environ.pop("SOFTCUT_HOME", None)
        else:
            os.environ["SOFTCUT_HOME"] = old


class ServerThread:
    """An EngineServer running in this process, on its own thread and event loop; ``port`` is
    where it listens (loopback, OS-chosen). For tests that build the server with options
    ``softcut serve`` does not expose (a chosen token, pairing, an outbox folder)."""

    def __init__(self, server) -> None:
        import asyncio
        import threading

        self.server = server
        self.loop = asyncio.new_event_loop()
        self.stop_future = self.loop.create_future()
        ready = self.loop.create_future()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(server.run(self.stop_future, ready=ready),), daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(ready), 30), self.loop).result(35)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(lambda: self.stop_future.done() or self.stop_future.set_result(None))
        self.thread.join(30)
        self.loop.close()


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """(h, w, 3) uint8: random coloured shapes, a document a photo of the screen can be located in."""
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), 128, np.uint8)
    for _ in range(500):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(4, 30))
        if rng.random() < 0.5:
            cv2.circle(image, (x, y), r, colour, -1)
        else:
            cv2.rectangle(image, (x, y), (x + r, y + int(rng.integers(4, 30))), colour, -1)
    return image


def plate_scene(h: int = 180, w: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red disc with a soft rim over a textured ground (the tiny model's subject, and red
    shapes to mislead it), and a handheld clean plate of that ground: moved up to 3 % and 2°,
    re-exposed, noisy (:func:`testing.plate_synthetic.plate_case`).

    Returns (image (h, w, 3) uint8, plate (h, w, 3) uint8, true alpha (h, w) float32 in [0, 1]).
    """
    from core.imageio import float_to_uint8
    from testing.plate_synthetic import plate_case

    _, alpha = red_disc_image(h, w)
    foreground = np.broadcast_to(np.float32([0.9, 0.2, 0.1]), (h, w, 3))
    ground = textured(2 * h, 2 * w, seed).astype(np.float32) / 255.0
    case = plate_case(foreground, alpha, ground, np.random.default_rng(seed))
    return float_to_uint8(case.image), float_to_uint8(case.plate), alpha
