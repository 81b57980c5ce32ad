"""A user who upgrades keeps their token, their paired clients and their phone outbox.

The files are those the layout before the restructure (commit 4290716, before 7c2618f moved
engine_server/config.py to wire/ and the outbox to engine_server/phone/) left in the user's
config folder, written here byte for byte as that code wrote them, at the paths it used. Their
names and formats are spelled out literally below, never taken from today's code: they are the
contract with existing users. Today's engine (a real ``softcut serve``) is then started on them
and today's client uses them.

The old layout, as 4290716 had it:

- the config folder (engine_server/config.py ``config_dir``): ``$SOFTCUT_CONFIG``, else on Linux
  ``$XDG_CONFIG_HOME/softcut``, else ``~/.config/softcut``; mode 0700, every file in it 0600;
- ``token`` (config.py ``TOKEN_FILE``): the master token, ``secrets.token_urlsafe(32)`` (43
  characters) and a newline, nothing else;
- ``tokens.json`` (tokens.py ``TOKENS_FILE``): the paired clients, ``json.dumps({"version": 1,
  "tokens": [...]}, indent=1)`` and a newline; each token ``{"id": "t" + 16 hex digits, "secret": 43
  characters, "scope": "editor" | "phone", "client", "created", "last_used"}``; a client keeps
  ``"<id>.<secret>"``;
- ``outbox/`` (server.py ``config.config_dir() / "outbox"``; outbox.py): per delivery ``<id>.json``,
  ``json.dumps`` of ``{"id": "d" + 16 hex digits, "name", "created", "state": "cutting" | "staged" |
  "pending", "width", "height", "x", "y", "target", "photo_width", "photo_height", "scale",
  "source"}``; ``<id>.png``, the RGBA cut-out (staged and pending); ``<id>.photo``, the phone's photo
  as it arrived, while cutting (``source``: its buffer's [format, width, height]).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sample_images import red_disc_image
from core.imageio import float_to_uint8
from testing.launcher import EngineProcess
from wire.client import EngineError, EngineImpostor, SoftcutClient, raw_image

OLD_TOKEN_FILE = "token"
OLD_TOKENS_FILE = "tokens.json"
OLD_OUTBOX = "outbox"
OLD_APP_FOLDER = "softcut"
"""The config folder's name under $XDG_CONFIG_HOME, else under ~/.config (Linux)."""
OLD_FOLDER_MODE = 0o700
OLD_FILE_MODE = 0o600
OLD_TOKENS_VERSION = 1
OLD_TOKEN_FIELDS = ("id", "secret", "scope", "client", "created", "last_used")
OLD_RECORD_FIELDS = ("id", "name", "created", "state", "width", "height", "x", "y", "target", "photo_width",
                     "photo_height", "scale", "source")


# ── the old files, written as 4290716 wrote them ─────────────────────────────


def write_old_private(path: Path, data: bytes) -> None:
    """``data`` in ``path`` as the old ``config.write_private`` left it: a 0600 file in a 0700 folder."""
    path.parent.mkdir(mode=OLD_FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(path.parent, OLD_FOLDER_MODE)
    path.write_bytes(data)
    os.chmod(path, OLD_FILE_MODE)


def old_record(record: dict) -> bytes:
    """An outbox record as the old ``Outbox._save`` wrote it: ``json.dumps(asdict(delivery))``."""
    assert tuple(record) == OLD_RECORD_FIELDS
    return json.dumps(record).encode()


def rgba_png(rgba: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue()


def pattern(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 4) uint8: a cut-out with colours and alpha of its own (recognisable byte for byte)."""
    return np.random.default_rng(seed).integers(1, 256, (h, w, 4), dtype=np.uint8)


@dataclass
class OldUser:
    """What a user of the old layout has in their config folder (records as dicts, plus their files)."""

    folder: Path
    token: str
    editor: dict
    phone: dict
    pending: dict
    pending_png: bytes
    staged: dict
    staged_png: bytes
    cutting: dict

    def credential(self, token: dict) -> str:
        """What a paired client kept: ``"<id>.<secret>"``."""
        return f"{token['id']}.{token['secret']}"


def write_old_user(folder: Path) -> OldUser:
    """A config folder as the old engine left it: a token, two paired clients (the Photoshop panel,
    a phone), and an outbox holding a cut-out waiting for an editor (pending), one cut out but not
    pasted yet (staged) and one whose photo was kept when the engine stopped mid-cut (cutting)."""
    now = time.time()
    token = secrets.token_urlsafe(32)
    write_old_private(folder / OLD_TOKEN_FILE, (token + "\n").encode())

    editor = {"id": f"t{secrets.token_hex(8)}", "secret": secrets.token_urlsafe(32), "scope": "editor",
              "client": "softcut-photoshop", "created": round(now - 40 * 86400, 3), "last_used": round(now - 86400, 3)}
    phone = {"id": f"t{secrets.token_hex(8)}", "secret": secrets.token_urlsafe(32), "scope": "phone",
             "client": "softcut-phone", "created": round(now - 30 * 86400, 3), "last_used": None}
    assert tuple(editor) == tuple(phone) == OLD_TOKEN_FIELDS
    tokens = {"version": OLD_TOKENS_VERSION, "tokens": [editor, phone]}
    write_old_private(folder / OLD_TOKENS_FILE, (json.dumps(tokens, indent=1) + "\n").encode())

    # each file before the record that names it, as the old outbox wrote them
    outbox = folder / OLD_OUTBOX
    pending_png = rgba_png(pattern(36, 48, seed=1))
    pending = {"id": f"d{secrets.token_hex(8)}", "name": "Old mug", "created": now - 3 * 86400, "state": "pending",
               "width": 48, "height": 36, "x": 40, "y": 30, "target": None, "photo_width": 4032,
               "photo_height": 3024, "scale": 1.0, "source": None}
    write_old_private(outbox / f"{pending['id']}.png", pending_png)
    write_old_private(outbox / f"{pending['id']}.json", old_record(pending))

    staged_png = rgba_png(pattern(20, 30, seed=2))
    staged = {"id": f"d{secrets.token_hex(8)}", "name": "Phone cut-out", "created": now - 3600, "state": "staged",
              "width": 30, "height": 20, "x": None, "y": None, "target": None, "photo_width": 320,
              "photo_height": 240, "scale": None, "source": None}
    write_old_private(outbox / f"{staged['id']}.png", staged_png)
    write_old_private(outbox / f"{staged['id']}.json", old_record(staged))

    photo, _ = red_disc_image(120, 160)  # the tiny model's subject: a red disc on blue, as rgb8 from the phone
    cutting = {"id": f"d{secrets.token_hex(8)}", "name": "Phone cut-out", "created": now - 60, "state": "cutting",
               "width": 0, "height": 0, "x": None, "y": None, "target": None, "photo_width": None,
               "photo_height": None, "scale": None, "source": ["rgb8", 160, 120]}
    write_old_private(outbox / f"{cutting['id']}.photo", np.ascontiguousarray(float_to_uint8(photo)).tobytes())
    write_old_private(outbox / f"{cutting['id']}.json", old_record(cutting))
    return OldUser(folder, token, editor, phone, pending, pending_png, staged, staged_png, cutting)


# ── today's engine and client on them ────────────────────────────────────────


def start_engine(config: Path, model: Path, home: Path, env: dict | None = None) -> EngineProcess:
    """``softcut serve`` with its config folder at ``config`` (``$SOFTCUT_CONFIG``, unless ``env``
    says otherwise); no screenshots (a paste without a located screen goes to the centre)."""
    return EngineProcess(config, model, "--device", "cpu", "--no-screenshots", home=home, timeout=60, env=env)


def token_path_said(engine: EngineProcess) -> str:
    """The token file the engine says clients on this machine read."""
    (line,) = [line for line in engine.log if "read the token from " in line]
    return line.split("read the token from ", 1)[1].strip()


def place_all(port: int, token: str | None, count: int) -> list:
    """Connect as an editor (accepting place_layer, no canvas_snapshot) and place every cut-out the
    engine sends until ``count`` came; returns the place_layer requests in the order they came."""
    placed = []

    def place(request):
        placed.append(request)
        return {"delivery": request.fields["delivery"], "ok": True, "message": "placed"}

    deadline = time.monotonic() + 60  # a hang guard only: pending deliveries go out right after the hello
    with SoftcutClient(port=port, token=token, name="softcut-gimp", timeout=60,
                       accepts={"place_layer": place}) as editor:
        while len(placed) < count:
            assert time.monotonic() < deadline, f"{len(placed)} of {count} deliveries came"
            editor.poll(1.0)
    return placed


def eventually(predicate, what: str, timeout: float = 30.0) -> None:
    """Wait until ``predicate()`` holds (the engine removes placed deliveries on its own thread)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


def png_rgba(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


@pytest.fixture
def old_user(tmp_path) -> OldUser:
    return write_old_user(tmp_path / "config")


# ── the token file ───────────────────────────────────────────────────────────


def test_the_old_token_file_still_authenticates_and_is_left_as_it_was(old_user, tiny_model, tmp_path, monkeypatch):
    before = (old_user.folder / OLD_TOKEN_FILE).read_bytes()
    engine = start_engine(old_user.folder, tiny_model, tmp_path / "home")
    try:
        assert token_path_said(engine) == str(old_user.folder / OLD_TOKEN_FILE)
        with SoftcutClient(port=engine.port, token=old_user.token, timeout=30) as client:
            assert client.welcome["engine"]["name"] == "softcut"
            assert client.status()["clients"] == 1
        # a plug-in that reads the token file itself (no token given) finds the old one
        monkeypatch.setenv("SOFTCUT_CONFIG", str(old_user.folder))
        with SoftcutClient(port=engine.port, timeout=30) as client:
            assert client.models()
    finally:
        engine.stop()
    assert (old_user.folder / OLD_TOKEN_FILE).read_bytes() == before  # not replaced: paired editors keep working
    assert (old_user.folder / OLD_TOKEN_FILE).stat().st_mode & 0o777 == OLD_FILE_MODE


# ── the paired clients (tokens.json) ─────────────────────────────────────────


def test_paired_clients_keep_their_tokens_and_scopes(old_user, tiny_model, tmp_path):
    engine = start_engine(old_user.folder, tiny_model, tmp_path / "home")
    try:
        with SoftcutClient(port=engine.port, token=old_user.credential(old_user.editor), timeout=30) as panel:
            assert [m["name"] for m in panel.models()]  # an editor's token may ask anything
        with SoftcutClient(port=engine.port, token=old_user.credential(old_user.phone), timeout=30) as phone:
            assert "jobs_done" in phone.status()
            refused = "unauthorized: models.list: this connection's token has scope 'phone'"
            with pytest.raises(EngineError, match=refused):
                phone.models()  # still a phone's token: what the phone page sends, nothing more
        with pytest.raises(EngineImpostor):  # the engine proves the old secret, which this one is not
            SoftcutClient(port=engine.port, token=f"{old_user.phone['id']}.{'A' * 43}", timeout=30).connect()
    finally:
        engine.stop()
    # the file keeps the old format (an engine rolled back reads it): the same tokens, their use recorded
    text = (old_user.folder / OLD_TOKENS_FILE).read_text()
    data = json.loads(text)
    assert text.endswith("\n") and data["version"] == OLD_TOKENS_VERSION and list(data) == ["version", "tokens"]
    assert [tuple(t) for t in data["tokens"]] == [OLD_TOKEN_FIELDS, OLD_TOKEN_FIELDS]
    kept = {t["id"]: t for t in data["tokens"]}
    for old in (old_user.editor, old_user.phone):
        now = kept[old["id"]]
        assert {k: now[k] for k in ("secret", "scope", "client", "created")} == {
            k: old[k] for k in ("secret", "scope", "client", "created")}
        assert now["last_used"] is not None and now["last_used"] > old["created"]
    assert (old_user.folder / OLD_TOKENS_FILE).stat().st_mode & 0o777 == OLD_FILE_MODE


# ── the outbox ───────────────────────────────────────────────────────────────


def test_cut_outs_waiting_in_the_old_outbox_are_delivered(old_user, tiny_model, tmp_path):
    photo = raw_image(160, 120, "rgb8", np.zeros((120, 160, 3), np.uint8).tobytes(), name="photo")
    engine = start_engine(old_user.folder, tiny_model, tmp_path / "home")
    try:
        with SoftcutClient(port=engine.port, token=old_user.credential(old_user.phone), timeout=60,
                           name="softcut-phone") as phone:
            # no editor connected: both are kept, pending, for the next editor
            staged = phone.phone_paste(old_user.staged["id"], photo, name="Old plant")
            assert (staged.fields["status"], staged.fields["delivery"]) == ("kept", old_user.staged["id"])
            cutting = phone.phone_paste(old_user.cutting["id"], photo, name="Old cup")  # cut again from the kept photo
            assert (cutting.fields["status"], cutting.fields["delivery"]) == ("kept", old_user.cutting["id"])
        placed = place_all(engine.port, old_user.token, 3)
        eventually(lambda: not list((old_user.folder / OLD_OUTBOX).iterdir()), "the outbox to be empty")
    finally:
        engine.stop()
    by_id = {request.fields["delivery"]: request for request in placed}
    assert [r.fields["delivery"] for r in placed] == [old_user.pending["id"], old_user.staged["id"],
                                                       old_user.cutting["id"]]  # oldest first

    pending = by_id[old_user.pending["id"]]
    assert pending.fields == {"delivery": old_user.pending["id"], "name": "Old mug", "x": 40, "y": 30}
    spec, data = pending.buffer("cutout")
    assert (spec.format, spec.width, spec.height) == ("png", 48, 36) and data == old_user.pending_png

    staged = by_id[old_user.staged["id"]]
    assert staged.fields == {"delivery": old_user.staged["id"], "name": "Old plant", "x": None, "y": None}
    spec, data = staged.buffer("cutout")
    assert (spec.format, spec.width, spec.height) == ("png", 30, 20) and data == old_user.staged_png

    remade = by_id[old_user.cutting["id"]]
    assert remade.fields["name"] == "Old cup"
    spec, data = remade.buffer("cutout")
    cutout = png_rgba(data)  # the red disc, cropped out of the kept 160 x 120 photo
    assert spec.format == "png" and cutout.shape == (spec.height, spec.width, 4)
    assert spec.width < 160 and spec.height < 120 and cutout[spec.height // 2, spec.width // 2, 3] > 240


# ── where the config folder is when nothing names it ─────────────────────────


@pytest.mark.parametrize("where", ["home", "xdg"])
def test_the_default_config_folder_is_where_the_old_engine_kept_it(where, tiny_model, tmp_path, monkeypatch):
    home = tmp_path / "user"
    if where == "home":  # ~/.config/softcut
        folder = home / ".config" / OLD_APP_FOLDER
        env = {"HOME": str(home), "XDG_CONFIG_HOME": None, "SOFTCUT_CONFIG": None}
    else:  # $XDG_CONFIG_HOME/softcut
        folder = tmp_path / "xdg" / OLD_APP_FOLDER
        env = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "SOFTCUT_CONFIG": None}
    old_user = write_old_user(folder)
    engine = start_engine(folder, tiny_model, tmp_path / "models", env=env)
    try:
        assert token_path_said(engine) == str(folder / OLD_TOKEN_FILE)
        for name, value in env.items():  # this process is the plug-in: it finds the token file itself
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        (placed,) = place_all(engine.port, None, 1)  # the pending cut-out (the others wait for a paste)
        assert placed.fields["delivery"] == old_user.pending["id"]
        assert placed.buffer("cutout")[1] == old_user.pending_png
        record = folder / OLD_OUTBOX / f"{old_user.pending['id']}.json"
        eventually(lambda: not record.exists(), "the delivery's removal")
    finally:
        engine.stop()
    assert (folder / OLD_TOKEN_FILE).read_text() == old_user.token + "\n"
