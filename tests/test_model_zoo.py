"""rembg's model zoo: the models a rembg user already has in ``$U2NET_HOME``, found, loaded and fed
exactly as rembg's sessions feed them.

Each real model is replaced by a tiny ONNX stand-in with the family's input shape and outputs. The
stand-in's output is a nonlinear function of all three input channels (a 1×1 convolution, then a
sigmoid), so min-max stretching does not hide a wrong mean, std, x / max(x) or sigmoid: the test
runs the same stand-in on a tensor made the way rembg makes it (``rembg_reference``, written from
rembg's ``sessions/*.py``) and compares the masks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelError
from core.models import registry, store
from core.models.session import MaskSession, custom_spec, resolve
from core.providers import choose_providers

# rembg's sessions (danielgatis/rembg, rembg/sessions/*.py, read for this test): name → (input side,
# mean, std, sigmoid before min-max). Written out here, not taken from the registry, so a wrong
# registry entry fails. Every session divides the resized image by its maximum first (base.normalize).
IMAGENET_MEAN, IMAGENET_STD, ONES = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), (1.0, 1.0, 1.0)
REMBG_SESSIONS = {
    "u2net": (320, IMAGENET_MEAN, IMAGENET_STD, False),
    "u2netp": (320, IMAGENET_MEAN, IMAGENET_STD, False),
    "u2net_human_seg": (320, IMAGENET_MEAN, IMAGENET_STD, False),
    "silueta": (320, IMAGENET_MEAN, IMAGENET_STD, False),
    "isnet-general-use": (1024, IMAGENET_MEAN, ONES, False),
    "isnet-anime": (1024, IMAGENET_MEAN, ONES, False),
    "birefnet-general": (1024, IMAGENET_MEAN, IMAGENET_STD, True),
    "birefnet-general-lite": (1024, IMAGENET_MEAN, IMAGENET_STD, True),
    "birefnet-portrait": (1024, IMAGENET_MEAN, IMAGENET_STD, True),
    "birefnet-dis": (1024, IMAGENET_MEAN, IMAGENET_STD, True),
    "birefnet-hrsod": (1024, IMAGENET_MEAN, IMAGENET_STD, True),
    "birefnet-cod": (1024, IMAGENET_MEAN, IMAGENET_STD, True),
    "birefnet-massive": (1024, IMAGENET_MEAN, IMAGENET_STD, True),
    "bria-rmbg": (1024, IMAGENET_MEAN, IMAGENET_STD, False),
}
WEIGHTS = (1.0, 0.6, 0.3)
"""The stand-ins' 1×1 convolution: every channel's normalisation shows in the output."""


def build_standin(path: Path, side: int, *, outputs: int = 1, weights: tuple[float, float, float] = WEIGHTS) -> Path:
    """A stand-in for a rembg model: input float32 [1, 3, side, side]; output 0 is
    sigmoid(conv1x1(input, weights)) [1, 1, side, side] (U²-Net and IS-Net exports have further
    side outputs: ``outputs`` > 1 adds copies negated, which a session must not read)."""
    import onnx
    from onnx import TensorProto, helper

    inp = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, side, side])
    outs = [helper.make_tensor_value_info(f"d{i}", TensorProto.FLOAT, [1, 1, side, side]) for i in range(outputs)]
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], list(weights))
    nodes = [helper.make_node("Conv", ["input.1", "w"], ["mix"]), helper.make_node("Sigmoid", ["mix"], ["d0"])]
    nodes += [helper.make_node("Neg", ["d0"], [f"d{i}"]) for i in range(1, outputs)]
    graph = helper.make_graph(nodes, "standin", [inp], outs, initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def zoo_image(side: int) -> np.ndarray:
    """(side, side, 3) uint8 RGB with different patterns per channel, maximum 200 (< 255, so
    x / max(x) matters)."""
    yy, xx = np.mgrid[0:side, 0:side] / side
    r = 30 + 170 * xx
    g = 20 + 160 * yy
    b = 100 + 80 * np.sin(6 * xx + 4 * yy)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 200).round().astype(np.uint8)


def rembg_reference(image: np.ndarray, path: Path, mean, std, sigmoid: bool, *, scale_by_max: bool = True) -> np.ndarray:
    """rembg's session arithmetic on an image already at the model's size (its LANCZOS resizes are
    then identities): uint8 → / max → (x − mean) / std → output 0, channel 0 → [sigmoid] → min-max.
    ``scale_by_max=False`` (/ 255 instead) only to show that the difference is seen."""
    import onnxruntime

    x = image.astype(np.float64)
    x = x / max(np.max(x), 1e-6) if scale_by_max else x / 255
    tensor = ((x - np.asarray(mean)) / np.asarray(std)).transpose(2, 0, 1)[None].astype(np.float32)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    pred = session.run(None, {session.get_inputs()[0].name: tensor})[0][:, 0, :, :]
    if sigmoid:
        pred = 1 / (1 + np.exp(-pred))
    return np.squeeze((pred - pred.min()) / (pred.max() - pred.min()))


@pytest.fixture
def u2net_home(tmp_path, monkeypatch) -> Path:
    """An empty rembg folder (``U2NET_HOME``) and an empty Softcut cache."""
    monkeypatch.setenv("SOFTCUT_HOME", str(tmp_path / "home"))
    folder = tmp_path / "u2net"
    folder.mkdir()
    monkeypatch.setenv("U2NET_HOME", str(folder))
    return folder


@pytest.fixture(scope="module")
def standins(tmp_path_factory) -> dict[int, Path]:
    """One stand-in per input size (320², with U²-Net's seven outputs, and 1024²), built once."""
    folder = tmp_path_factory.mktemp("standins")
    return {320: build_standin(folder / "s320.onnx", 320, outputs=7), 1024: build_standin(folder / "s1024.onnx", 1024)}


def put(u2net_home: Path, name: str, standins: dict[int, Path]) -> Path:
    """The stand-in for ``name`` placed in rembg's folder under rembg's file name (``<name>.onnx``)."""
    target = u2net_home / f"{name}.onnx"
    target.write_bytes(standins[REMBG_SESSIONS[name][0]].read_bytes())
    return target


def test_every_rembg_session_is_registered_under_rembgs_file_name():
    for name in REMBG_SESSIONS:
        spec = registry.get_spec(name)
        assert spec.rembg_filename == f"{name}.onnx", name
        assert spec.sha256 is None and spec.npm is None  # never fetched by Softcut
        assert spec.licence and spec.origin
    assert "non-commercial" in registry.get_spec("bria-rmbg").licence


@pytest.mark.parametrize("name", list(REMBG_SESSIONS))
def test_a_rembg_model_is_found_loaded_and_fed_as_rembg_feeds_it(name, u2net_home, standins):
    side, mean, std, sigmoid = REMBG_SESSIONS[name]
    assert store.locate(registry.get_spec(name)) is None
    placed = put(u2net_home, name, standins)
    spec, path = resolve(name, fetch=False)
    assert path == placed
    session = MaskSession(spec, path, choose_providers("cpu"), threads=1)
    image = zoo_image(side)
    ours = session.predict(image.astype(np.float32) / 255)
    expected = rembg_reference(image, path, mean, std, sigmoid)
    assert ours.shape == (side, side) and ours.dtype == np.float32
    assert np.abs(ours - expected).max() < 1e-3
    assert ours.min() == pytest.approx(0.0, abs=1e-6) and ours.max() == pytest.approx(1.0, abs=1e-6)


def test_the_reference_tells_the_preprocessings_apart(standins):
    """The check above can fail: every way of getting a family's arithmetic wrong moves the mask."""
    image = zoo_image(1024)
    birefnet = rembg_reference(image, standins[1024], IMAGENET_MEAN, IMAGENET_STD, True)
    wrong = {
        "no sigmoid": rembg_reference(image, standins[1024], IMAGENET_MEAN, IMAGENET_STD, False),
        "IS-Net's std": rembg_reference(image, standins[1024], IMAGENET_MEAN, ONES, True),
        "mean 0.5": rembg_reference(image, standins[1024], (0.5, 0.5, 0.5), IMAGENET_STD, True),
        "no x / max": rembg_reference(image, standins[1024], IMAGENET_MEAN, IMAGENET_STD, True, scale_by_max=False),
    }
    for what, mask in wrong.items():
        assert np.abs(mask - birefnet).max() > 0.01, what


def test_a_model_of_the_wrong_size_is_refused(u2net_home, standins):
    (u2net_home / "birefnet-general.onnx").write_bytes(standins[320].read_bytes())
    spec, path = resolve("birefnet-general", fetch=False)
    with pytest.raises(ModelError, match="320×320, but its settings say 1024×1024"):
        MaskSession(spec, path, choose_providers("cpu"))


def test_rembg_folder_follows_rembgs_own_rule(monkeypatch, tmp_path):
    monkeypatch.delenv("U2NET_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert store.rembg_dir() == tmp_path / "data" / ".u2net"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert store.rembg_dir() == Path.home() / ".u2net"
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "elsewhere"))
    assert store.rembg_dir() == tmp_path / "elsewhere"


def test_ben2_runs_as_a_users_file_the_way_rembgs_ben_custom_session_feeds_it(tmp_path, standins):
    """rembg has no ben2-base session (its README listed one; issue 776); its ``ben_custom`` takes a
    user's BEN2 file: 1024², x / max, mean 0.5, std 1, min-max. A sidecar says the same here."""
    path = tmp_path / "BEN2_Base.onnx"
    path.write_bytes(standins[1024].read_bytes())
    path.with_suffix(".json").write_text(json.dumps(
        {"input_size": [1024, 1024], "mean": [0.5] * 3, "std": [1.0] * 3, "output_range": "minmax", "scale_by_max": True}))
    spec = custom_spec(path)
    assert spec.preprocessing.scale_by_max and spec.preprocessing.output_range == "minmax"
    image = zoo_image(1024)
    ours = MaskSession(spec, path, choose_providers("cpu"), threads=1).predict(image.astype(np.float32) / 255)
    assert np.abs(ours - rembg_reference(image, path, (0.5,) * 3, ONES, False)).max() < 1e-3


def test_models_list_shows_which_rembg_models_are_present(u2net_home, standins):
    put(u2net_home, "birefnet-general-lite", standins)
    put(u2net_home, "u2net_human_seg", standins)
    done = subprocess.run([sys.executable, "-m", "softcut_app.commands", "models", "list", "--json"],
                          capture_output=True, text=True, check=True)
    rows = {row["name"]: row for row in map(json.loads, done.stdout.splitlines())}
    assert list(rows) == list(registry.MODELS)
    present = {name for name, row in rows.items() if row["present"]}
    assert present == {"birefnet-general-lite", "u2net_human_seg"}
    assert rows["birefnet-general-lite"]["path"] == str(u2net_home / "birefnet-general-lite.onnx")


def test_the_engine_lists_the_zoo_and_runs_a_rembg_model_by_name(tmp_path, u2net_home, standins):
    from test_server import Engine

    put(u2net_home, "birefnet-general-lite", standins)
    put(u2net_home, "silueta", standins)
    engine = Engine(tmp_path, "birefnet-general-lite")
    try:
        with engine.client() as client:
            listed = {m["name"]: m for m in client.welcome["models"]}
            assert list(listed) == list(registry.MODELS)
            assert {n for n, m in listed.items() if m["present"]} == {"birefnet-general-lite", "silueta"}
            assert [n for n, m in listed.items() if m["loaded"]] == ["birefnet-general-lite"]
            assert {m["name"]: m["present"] for m in client.models()} == {n: m["present"] for n, m in listed.items()}
    finally:
        engine.stop()
