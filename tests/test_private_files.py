"""The engine's private files, against real `softcut serve` processes on loopback (the tiny model):
bad token files and a full disk stop it with one clear line (exit 2, no traceback), the config and
outbox folders are 0700 and their files 0600, and a phone cut survives kill -9 and SIGTERM.

The full disk is a real one: a small tmpfs mounted for the test (root only; the tests that need
it are skipped, saying why, where mounting is not permitted). Unreadable token files are made
with mode 0000 and, as root, read by an engine started under ``setpriv`` without the capabilities
that let root read anyway.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sample_images import red_disc_image, textured
from core.imageio import float_to_uint8
from wire import config
from wire.client import EngineError, EngineUnavailable, SoftcutClient, jpeg_image, raw_image
from testing.launcher import EngineProcess

NEW_TOKEN = "softcut serve --new-token"
ROOT_WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
"""A command prefix under which root is refused a mode-0000 file, as any other user is."""


def serve_once(config: Path, model: Path, *extra: str, prefix: list[str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `softcut serve` with ``config`` as its config folder until it exits (it must: the tests
    give it something it refuses)."""
    command = [*(prefix or []), sys.executable, "-m", "softcut_app.cli", "serve", "--port", "0",
               "--device", "cpu", "--model", str(model), *extra]
    env = {**os.environ, "SOFTCUT_CONFIG": str(config)}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The single ``error:`` line of a refused start (exit status 2, no traceback)."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def start(config: Path, model: Path, *extra: str) -> EngineProcess:
    return EngineProcess(config, model, "--device", "cpu", *extra, home=config.parent / "home", timeout=60)


def phone(engine: EngineProcess) -> SoftcutClient:
    return SoftcutClient(port=engine.port, token=engine.token, timeout=60, name="softcut-phone")


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


def disc_photo(h: int, w: int, noise: int = 0) -> np.ndarray:
    """(h, w, 3) uint8: the tiny model's subject (a red disc on blue), with uniform noise of ± ``noise``."""
    rgb = float_to_uint8(red_disc_image(h, w)[0]).astype(np.int16)
    if noise:
        rgb += np.random.default_rng(0).integers(-noise, noise, rgb.shape, dtype=np.int16)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def paste_photo():
    rgb = textured(90, 120)
    return raw_image(120, 90, "rgb8", rgb.tobytes(), name="photo")


def record(config: Path, cut: str) -> dict:
    return json.loads((config / "outbox" / f"{cut}.json").read_text())


def wait_for_state(config: Path, cut: str, state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if record(config, cut)["state"] == state:
                return
        except FileNotFoundError:
            pass
        assert time.monotonic() < deadline, f"cut {cut} never became {state}"
        time.sleep(0.05)


def modes(folder: Path) -> dict[str, int]:
    """Every path under ``folder`` (and itself, as ".") → its permission bits."""
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(folder: Path) -> None:
    loose = {name: f"{mode:04o}" for name, mode in modes(folder).items()
             if mode != (0o700 if (folder / name).is_dir() else 0o600)}
    assert loose == {}, f"not private under {folder}: {loose}"


# ── bad token files ──────────────────────────────────────────────────────────

BAD_TOKEN_FILES = {
    "empty": (b"", "is empty"),
    "a newline": (b"\n", "is empty"),
    "whitespace": (b" \t \r\n", "is empty"),
    "binary": (b"\xff\xfe\x00\x01\x89PNG", "is not text (binary, or not UTF-8)"),
    "non-printable": (b"abc\x07def\n", "holds characters a token never has (non-printable, non-ASCII or spaces)"),
    "a folder": (None, "is a folder, not a file"),
}


@pytest.mark.parametrize("case", BAD_TOKEN_FILES)
def test_a_bad_token_file_stops_serve_with_one_clear_line(tmp_path, tiny_model, case):
    content, problem = BAD_TOKEN_FILES[case]
    token = tmp_path / "config" / "token"
    token.parent.mkdir()
    if content is None:
        token.mkdir()
    else:
        token.write_bytes(content)
    line = one_error_line(serve_once(token.parent, tiny_model))
    assert line == (f"error: the pairing token file {token} {problem}; make a new one with `{NEW_TOKEN}` "
                    f"(clients then need the new token: pair again)")


def test_an_unreadable_token_file_stops_serve_with_one_clear_line(tmp_path, tiny_model):
    prefix = None
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root a mode-0000 file stays readable, and setpriv (to drop that) is missing")
        prefix = ROOT_WITHOUT_DAC
    token = tmp_path / "config" / "token"
    token.parent.mkdir()
    token.write_text("a-perfectly-good-token\n")
    token.chmod(0)
    line = one_error_line(serve_once(token.parent, tiny_model, prefix=prefix))
    assert f"the pairing token file {token} cannot be read (permission denied)" in line and NEW_TOKEN in line


@pytest.mark.parametrize("case", ["empty", "a folder"])
def test_new_token_replaces_a_bad_token_file_and_says_clients_must_pair_again(tmp_path, tiny_model, case):
    token = tmp_path / "config" / "token"
    token.parent.mkdir()
    token.mkdir() if case == "a folder" else token.write_bytes(b"")
    with start(token.parent, tiny_model, "--new-token") as engine:
        assert any("wrote a new pairing token" in line and "must pair again" in line for line in engine.log)
        assert len(engine.token) == 43 and stat.S_IMODE(token.stat().st_mode) == 0o600
        with phone(engine) as client:
            assert client.status()["clients"] == 1
    first = engine.token
    with start(token.parent, tiny_model) as again:  # an ordinary start keeps it
        assert again.token == first


def test_the_client_names_a_broken_token_file_and_keeps_never_started_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTCUT_CONFIG", str(tmp_path))
    with pytest.raises(EngineUnavailable, match="start the engine once"):
        SoftcutClient(port=9, timeout=1).connect()
    (tmp_path / "token").write_bytes(b"\n")
    with pytest.raises(EngineUnavailable, match=f"token file {tmp_path / 'token'} is empty; .*{NEW_TOKEN}"):
        SoftcutClient(port=9, timeout=1).connect()


# ── file modes ───────────────────────────────────────────────────────────────


def test_config_and_outbox_are_private_and_loose_modes_are_tightened_at_start(tmp_path, tiny_model):
    config = tmp_path / "config"
    outbox = config / "outbox"
    outbox.mkdir(parents=True)
    leftover = outbox / "d0000000000000000.png"  # an older engine's file, world-readable
    leftover.write_bytes(b"png")
    for path, mode in ((config, 0o755), (outbox, 0o755), (leftover, 0o644)):
        path.chmod(mode)
    with start(config, tiny_model) as engine:
        log = "".join(engine.log)
        for path, before, after in ((config, "0755", "0700"), (outbox, "0755", "0700"), (leftover, "0644", "0600")):
            assert f"tightened {path}: mode {before} → {after}" in log
        with phone(engine) as client:
            cut = client.phone_cut(jpeg_image(jpeg(disc_photo(120, 160)))).fields["cut"]
            assert stat.S_IMODE((outbox / f"{cut}.photo").stat().st_mode) == 0o600  # kept before the answer
            wait_for_state(config, cut, "staged")
            assert client.phone_paste(cut, paste_photo()).fields["status"] == "kept"
        names = {p.name for p in config.rglob("*")}
        assert {"token", "outbox", f"{cut}.json", f"{cut}.png"} <= names
        assert_private(config)


# ── phone cuts survive the engine stopping ───────────────────────────────────


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill -9", "SIGTERM"])
def test_a_phone_cut_survives_the_engine_stopping_before_its_cut_out_is_made(tmp_path, tiny_model, how):
    config = tmp_path / "config"
    with start(config, tiny_model) as first:
        with phone(first) as client:  # 1200 x 900: the full cut-out takes seconds after the answer
            cut = client.phone_cut(jpeg_image(jpeg(disc_photo(900, 1200)))).fields["cut"]
        first.proc.send_signal(how)
        first.proc.wait(30)
    kept = record(config, cut)
    assert kept["state"] == "cutting" and (config / "outbox" / f"{cut}.photo").is_file()
    assert not (config / "outbox" / f"{cut}.png").exists()  # stopped before the cut-out was made
    with start(config, tiny_model) as second:
        with phone(second) as client:
            result = client.phone_paste(cut, paste_photo(), name="Mug")
        assert (result.fields["status"], result.fields["delivery"]) == ("kept", cut)
        pending = record(config, cut)
        assert (pending["state"], pending["name"], pending["photo_width"]) == ("pending", "Mug", 1200)
        cutout = np.asarray(Image.open(config / "outbox" / f"{cut}.png"))
        assert cutout.shape == (pending["height"], pending["width"], 4)
        assert cutout[cutout.shape[0] // 2, cutout.shape[1] // 2, 3] > 240  # the disc, opaque in the middle
        assert not (config / "outbox" / f"{cut}.photo").exists()
        assert_private(config)


# ── a full disk ──────────────────────────────────────────────────────────────


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MiB file system (tmpfs) mounted at ``tmp_path/disk``, to fill up."""
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a small tmpfs, and mounting one needs root (CI runs as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {done.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` with one file until about ``leave`` bytes are free; returns that file."""
    filler = disk / "filler"
    info = os.statvfs(disk)
    try:
        with open(filler, "ab") as out:
            out.write(b"\0" * max(0, info.f_bavail * info.f_frsize - leave))
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    return filler


def test_a_full_disk_leaves_no_token_file_and_says_so(small_disk, tiny_model):
    config = small_disk / "config"
    config.mkdir(mode=0o700)
    filler = fill(small_disk)
    line = one_error_line(serve_once(config, tiny_model))
    assert line.startswith(f"error: cannot write the pairing token file {config / 'token'}: the disk is full")
    assert list(config.iterdir()) == []  # no 0-byte token, no temporary file
    filler.unlink()
    with start(config, tiny_model) as engine:  # the next start, with room, just works
        assert len(engine.token) == 43


def test_a_full_disk_is_reported_as_such_by_phone_cut_and_phone_paste(small_disk, tiny_model):
    config = small_disk / "config"
    outbox = config / "outbox"
    with start(config, tiny_model) as engine, phone(engine) as client:
        filler = fill(small_disk)
        photo = jpeg_image(jpeg(disc_photo(480, 640, noise=40), quality=30))  # ~30 KB; its cut-out's PNG ~250 KB
        with pytest.raises(EngineError) as refused:
            client.phone_cut(photo)
        assert refused.value.code == "storage_failed"
        assert refused.value.message.startswith("the engine could not save the cut-out: no space left on device (")
        assert str(outbox) in refused.value.message
        assert not outbox.exists() or list(outbox.iterdir()) == []  # nothing half-written
        filler.unlink()
        filler = fill(small_disk, leave=120_000)  # room for the photo, not for the cut-out
        cut = client.phone_cut(photo).fields["cut"]  # the photo is on disk: the cut id is answered
        with pytest.raises(EngineError) as failed:
            client.phone_paste(cut, paste_photo())
        assert failed.value.code == "storage_failed" and "no space left on device" in failed.value.message
        assert record(config, cut)["state"] == "cutting"
        filler.unlink()  # room again: the kept photo's cut-out is made and pasted
        assert client.phone_paste(cut, paste_photo()).fields["status"] == "kept"
        assert record(config, cut)["state"] == "pending"
        assert [p.name for p in outbox.iterdir() if p.name.endswith(".tmp")] == []


def test_write_private_replaces_a_file_atomically_and_privately(tmp_path):
    target = tmp_path / "config" / "tokens.json"
    umask = os.umask(0o022)  # the usual one, which would leave 0755 folders and 0644 files
    try:
        config.write_private(target, b"one")
        config.write_private(target, b"two")
    finally:
        os.umask(umask)
    assert target.read_bytes() == b"two" and modes(target.parent) == {".": 0o700, "tokens.json": 0o600}


def test_write_private_on_a_full_disk_keeps_the_old_file_and_no_temporary(small_disk):
    target = small_disk / "config" / "tokens.json"
    config.write_private(target, b"old")
    fill(small_disk)
    with pytest.raises(OSError) as full:
        config.write_private(target, b"x" * 100_000)
    assert full.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old" and os.listdir(target.parent) == ["tokens.json"]


def test_a_dangling_token_link_is_named_not_taken_for_a_first_start(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTCUT_CONFIG", str(tmp_path))
    (tmp_path / "token").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(config.TokenFileError, match="is a symbolic link to a missing file; .*--new-token"):
        config.load_or_create_token()
    assert len(config.new_token()) == 43 and config.read_token() == config.load_or_create_token()


def test_start_tightens_softcuts_own_files_and_nothing_else_in_a_shared_folder(tmp_path, monkeypatch):
    shared = tmp_path / "shared"  # $SOFTCUT_CONFIG may name a folder other things live in too
    (shared / "outbox").mkdir(parents=True)
    for name in ("notes.txt", "token", "outbox/d0123456789abcdef.json", ".token.1.ab.tmp"):
        (shared / name).write_text("x")
        (shared / name).chmod(0o644)
    (shared / "outbox").chmod(0o755)
    shared.chmod(0o755)
    monkeypatch.setenv("SOFTCUT_CONFIG", str(shared))
    changes = config.secure_config_dir()
    assert len(changes) == 5 and all("→" in line for line in changes)
    assert modes(shared) == {".": 0o700, "notes.txt": 0o644, "token": 0o600, ".token.1.ab.tmp": 0o600,
                             "outbox": 0o700, "outbox/d0123456789abcdef.json": 0o600}
    assert config.secure_config_dir() == []
