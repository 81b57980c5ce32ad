"""Authentication without sending a secret (protocol 2): the challenge–response handshake, scoped
revocable tokens and their scopes, on real engine processes on loopback and against a program
squatting on the port (a real WebSocket server that records what it is sent).
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from websockets.sync.server import serve

import handshake
from sample_images import red_disc_image, textured
from tiny_models import build_tiny_model, write_sidecar
from core.imageio import float_to_uint8
from wire import config
from wire.client import EngineError, EngineImpostor, SoftcutClient, jpeg_image, raw_image
from testing.raw_websocket import ConnectionClosed
from wire.protocol import auth, codec, messages
from engine_server.tokens import TokenFileError, TokenStore
from test_server import Engine

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- the proofs


def test_proofs_are_hmac_sha256_over_both_nonces_with_a_label_per_direction():
    import hashlib
    import hmac

    secret, c, e = "s3cret", auth.new_nonce(), auth.new_nonce()
    assert auth.is_hex256(c) and auth.is_hex256(e) and c != e
    expected = hmac.new(b"s3cret", f"softcut-engine-proof\n{c}\n{e}".encode(), hashlib.sha256).hexdigest()
    assert auth.engine_proof(secret, c, e) == expected
    assert auth.client_proof(secret, c, e) == hmac.new(b"s3cret", f"softcut-client-proof\n{c}\n{e}".encode(),
                                                       hashlib.sha256).hexdigest()
    assert auth.engine_proof(secret, c, e) != auth.client_proof(secret, c, e)
    assert auth.engine_proof(secret, e, c) != auth.engine_proof(secret, c, e)
    assert auth.engine_proof("s", "a", "b") == "6ad81e3dd9d3b9208a2b76768df1b5685a9bdc8f84612529e9362da164636028"  # = hmac.test.js
    assert auth.proof_matches(expected, expected) and not auth.proof_matches(expected[:-1] + ("1" if expected[-1] == "0" else "0"), expected)
    assert not auth.proof_matches(None, expected) and not auth.proof_matches("\ud800", expected)


def test_credentials_are_a_master_token_or_an_id_and_a_secret():
    assert auth.parse_credential("3q2-7Yh0aU1xVbB9kq4PZg") == ("master", "3q2-7Yh0aU1xVbB9kq4PZg")
    assert auth.parse_credential(" t1a.se.cret\n") == ("t1a", "se.cret")
    assert auth.credential("t1a", "x") == "t1a.x"
    for bad in ("", " ", ".x", "t1.", "master.x", "a b.c", "t" * 65 + ".x"):
        with pytest.raises(ValueError, match="credential"):
            auth.parse_credential(bad)


# ---------------------------------------------------------------- the token store


def test_token_store_is_private_atomic_and_follows_the_file(tmp_path):
    now = [1000.0]
    path = tmp_path / "config" / "tokens.json"
    store = TokenStore(path, clock=lambda: now[0])
    assert store.list() == [] and not path.exists()
    phone = store.issue("phone", "softcut-phone")
    editor = store.issue("editor", "softcut-photoshop")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(phone.secret) == 43 and phone.id != editor.id and phone.secret not in repr(phone)
    other = TokenStore(path)  # another process's view (softcut tokens)
    assert [t.id for t in other.list()] == [phone.id, editor.id]
    assert other.revoke(phone.id) and not other.revoke(phone.id)
    assert store.get(phone.id) is None and store.get(editor.id).scope == "editor"  # re-read: the file changed
    store.touch(editor.id)
    assert other.get(editor.id).last_used == 1000.0
    now[0] += 10
    store.touch(editor.id)  # within TOUCH_INTERVAL_S: not written again
    assert other.get(editor.id).last_used == 1000.0
    assert other.revoke_all() == 1 and store.list() == []
    with pytest.raises(ValueError, match="scope"):
        store.issue("master", "x")
    path.write_text("[1, 2]")
    with pytest.raises(TokenFileError, match="tokens.json: not a Softcut token list"):
        TokenStore(path).list()


def test_softcut_tokens_list_and_revoke(tmp_path):
    env = {**os.environ, "SOFTCUT_CONFIG": str(tmp_path)}
    store = TokenStore(tmp_path / "tokens.json")
    token = store.issue("phone", "softcut-phone")
    run = lambda *a: subprocess.run([sys.executable, "-m", "softcut_app.cli", "tokens", *a], env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    listed = run("list")
    assert listed.returncode == 0 and token.id in listed.stdout and "phone" in listed.stdout
    assert "softcut-phone" in listed.stdout and "never" in listed.stdout and token.secret not in listed.stdout
    rows = json.loads(run("list", "--json").stdout)["tokens"]
    assert rows == [{"id": token.id, "scope": "phone", "client": "softcut-phone", "created": token.created, "last_used": None}]
    missing = run("revoke", "t0000")
    assert missing.returncode == 2 and "no token 't0000'" in missing.stderr
    assert run("revoke").returncode == 2
    assert run("revoke", token.id).returncode == 0 and store.list() == []


# ---------------------------------------------------------------- an impostor on the port


class FakeEngine:
    """A program squatting on the engine's port: a real WebSocket server (the `websockets` library) on
    loopback that records every frame it gets and answers hello as an impostor must: with a challenge
    whose proof is wrong (it does not hold the key), or (``skip_challenge``) an engine request and a
    welcome straight away."""

    def __init__(self, *, skip_challenge: bool = False) -> None:
        self.received: list[str | bytes] = []
        self.skip_challenge = skip_challenge
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handle(self, ws) -> None:
        for frame in ws:
            self.received.append(frame)
            message = json.loads(frame) if isinstance(frame, str) else {}
            if message.get("type") != "hello":
                continue
            if self.skip_challenge:
                ws.send(codec.encode(messages.canvas_snapshot(id="e5"))[0])
                ws.send(codec.encode(messages.welcome(message["id"], engine={"name": "softcut", "version": "0"}, device="cpu",
                                                      models=[], capabilities=[], limits=messages.Limits()))[0])
            else:
                ws.send(codec.encode(messages.challenge(message["id"], nonce=auth.new_nonce(), proof=auth.new_nonce()))[0])

    def types(self) -> list[str]:
        return [json.loads(f)["type"] for f in self.received if isinstance(f, str)]

    def saw(self, secret: str) -> bool:
        return any(secret in (f if isinstance(f, str) else f.decode("latin-1")) for f in self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture
def fake_engine():
    fake = FakeEngine()
    yield fake
    fake.close()


def test_the_client_gives_an_impostor_no_secret_and_says_so(fake_engine):
    for credential in ("the-master-token-0123456789", "t0123456789abcdef.the-scoped-secret"):
        client = SoftcutClient(port=fake_engine.port, token=credential, timeout=10)
        with pytest.raises(EngineImpostor, match=f"the program on 127.0.0.1:{fake_engine.port} could not prove it knows "
                                                 f"the token: it is not the Softcut engine, or the token is not this "
                                                 f"engine's"):
            client.connect()
        assert client._ws is None  # closed
    time.sleep(0.2)  # anything sent after the challenge would be in by now
    assert fake_engine.types() == ["hello", "hello"]
    assert not fake_engine.saw("the-master-token") and not fake_engine.saw("the-scoped-secret")


def test_softcut_client_gives_an_impostor_no_token(fake_engine, tmp_path):
    config_dir = tmp_path / "config"
    token = "master-token-that-must-not-leak"
    config.write_private(config_dir / "token", (token + "\n").encode())
    image = tmp_path / "photo.png"
    Image.fromarray(textured(24, 32)).save(image)
    done = subprocess.run(
        [sys.executable, "-m", "softcut_app.cli", "client", "select-subject", str(image), "-o", str(tmp_path / "out.png"),
         "--port", str(fake_engine.port), "--timeout", "20"],
        env={**os.environ, "SOFTCUT_CONFIG": str(config_dir)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "could not prove it knows the token: it is not the Softcut engine" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake_engine.types() == ["hello"] and not fake_engine.saw(token)
    assert json.loads(fake_engine.received[0])["key"] == "master"


def test_an_impostor_that_skips_the_challenge_gets_no_answer_to_its_requests():
    fake = FakeEngine(skip_challenge=True)
    try:
        shots = []
        client = SoftcutClient(port=fake.port, token="a-token", timeout=10,
                               accepts={"canvas_snapshot": lambda r: shots.append(r) or {}})
        with pytest.raises(EngineImpostor):
            client.connect()
        time.sleep(0.2)
        assert shots == [] and fake.types() == ["hello"]
    finally:
        fake.close()


# ---------------------------------------------------------------- a real engine


@pytest.fixture(scope="module")
def lan_engine(tmp_path_factory):
    """A `softcut serve --lan` child process (phone links on), no desktop screenshots."""
    tmp = tmp_path_factory.mktemp("auth_engine")
    model = build_tiny_model(tmp / "tiny.onnx")
    write_sidecar(model)
    server = Engine(tmp, model, "--lan", "--no-screenshots")
    yield server
    server.stop()


def _phone_credential(engine: Engine) -> tuple[str, SoftcutClient]:
    """Pair a phone through a phone link the master asks for; returns its credential and its client."""
    with SoftcutClient(port=engine.port, token=engine.token, timeout=30) as master:
        url = master.phone_link().fields["url"]
    phone = SoftcutClient(port=engine.port, timeout=30, name="softcut-krita",  # it claims to be an editor
                          accepts={"place_layer": lambda r: pytest.fail("a phone got place_layer"),
                                   "canvas_snapshot": lambda r: pytest.fail("a phone got canvas_snapshot")})
    credential = phone.pair(url.split("#t=", 1)[1])
    return credential, phone


def test_paired_tokens_are_scoped_and_never_the_master_token(lan_engine):
    code = lan_engine.pairing_codes()[-1]
    with lan_engine.raw() as ws:
        pair = messages.pair(code, client={"name": "softcut-photoshop", "version": "0"})
        handshake.send(ws, pair)
        paired = handshake.until(ws, pair.id, ("paired", "error"))
        assert paired.type == "paired" and paired.fields["scope"] == "editor"
        assert lan_engine.token not in json.dumps(paired.fields)
        assert handshake.handshake(ws, paired.fields["credential"]).type == "welcome"  # it works, on this connection
    credential = paired.fields["credential"]
    with SoftcutClient(port=lan_engine.port, token=credential, timeout=30) as later:  # and on later ones
        image = raw_image(32, 24, "rgb8", textured(24, 32).tobytes())
        assert later.select_subject(image, refine="none").result_id
    phone_credential, phone = _phone_credential(lan_engine)
    phone.close()
    assert phone.scope == "phone" and lan_engine.token not in phone_credential
    rows = {t.id: t for t in TokenStore(lan_engine.config / "tokens.json").list()}
    assert rows[credential.split(".")[0]].scope == "editor" and rows[phone_credential.split(".")[0]].scope == "phone"
    assert rows[credential.split(".")[0]].last_used is not None
    assert stat.S_IMODE((lan_engine.config / "tokens.json").stat().st_mode) == 0o600


def test_a_phone_token_never_gets_editor_deliveries_and_only_phone_requests(lan_engine):
    placed = []
    editor = SoftcutClient(port=lan_engine.port, token=lan_engine.token, name="softcut-krita", timeout=30,
                           accepts={"place_layer": lambda r: placed.append(r) or {"delivery": r.fields["delivery"], "ok": True}})
    editor.connect()
    stop = threading.Event()
    polling = threading.Thread(target=lambda: [editor.poll(0.05) for _ in iter(stop.is_set, True)], daemon=True)
    polling.start()
    _, phone = _phone_credential(lan_engine)  # connected after the editor: the most recent "editor", were it one
    try:
        with pytest.raises(EngineError, match="unauthorized: select_subject: this connection's token has scope 'phone'"):
            phone.select_subject(raw_image(4, 4, "rgb8", bytes(48)))
        with pytest.raises(EngineError, match="scope 'phone'"):
            phone.phone_link()
        assert phone.status()["clients"] >= 2
        photo, _ = red_disc_image(120, 160)
        jpeg = io.BytesIO()
        Image.fromarray(float_to_uint8(photo)).save(jpeg, "JPEG", quality=95)
        cut = phone.phone_cut(jpeg_image(jpeg.getvalue())).fields["cut"]
        screen = raw_image(160, 120, "rgb8", np.ascontiguousarray(textured(120, 160)).tobytes(), name="photo")
        outcome = phone.phone_paste(cut, screen)
        assert outcome.fields["status"] in ("placed", "placed_at_centre"), outcome.fields
        assert phone.poll(1.0) == 0  # nothing for the phone (its handlers would fail the test)
        assert [r.fields["delivery"] for r in placed] == [cut]  # the real editor got it
    finally:
        stop.set()
        polling.join(10)
        phone.close()
        editor.close()


def test_revoking_a_token_refuses_it_and_closes_its_live_connections(lan_engine):
    code = lan_engine.pairing_codes()[-1]
    client = SoftcutClient(port=lan_engine.port, timeout=30, name="softcut-photoshop")
    credential = client.pair(code)
    client.close()
    live = lan_engine.raw()
    decoder = codec.Decoder(role="client")
    assert handshake.handshake(live, credential, decoder=decoder).type == "welcome"
    done = subprocess.run([sys.executable, "-m", "softcut_app.cli", "tokens", "revoke", credential.split(".")[0]],
                          env={**os.environ, "SOFTCUT_CONFIG": str(lan_engine.config)}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    with pytest.raises(ConnectionClosed) as closed:  # recv's timeout guards: the engine looks every second
        while True:
            message = decoder.feed(live.recv(timeout=10))
            if message is not None:
                assert message.type == "error" and message.fields["code"] == "unauthorized"
                assert "revoked" in message.fields["message"]
    assert closed.value.code == 4001
    with lan_engine.raw() as ws:
        refused = handshake.handshake(ws, credential)
        assert refused.type == "error" and refused.fields["code"] == "unauthorized"
        assert "unknown or revoked key" in refused.fields["message"]
    with pytest.raises(EngineError, match="unauthorized"):
        SoftcutClient(port=lan_engine.port, token=credential, timeout=10).connect()
    with SoftcutClient(port=lan_engine.port, token=lan_engine.token, timeout=10) as master:  # the master is untouched
        assert master.status()["clients"] >= 1


def test_wrong_proofs_early_messages_and_protocol_1_are_refused(lan_engine):
    with lan_engine.raw() as ws:  # a wrong proof: unauthorized, close 4001
        refused = handshake.handshake(ws, lan_engine.token, proof="f" * 64)
        assert refused.fields["code"] == "unauthorized" and "wrong proof" in refused.fields["message"]
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.code == 4001
    with lan_engine.raw() as ws:  # between challenge and auth only auth is answered
        hello = messages.hello(key="master", nonce=auth.new_nonce(), client_name="t", client_version="0")
        handshake.send(ws, hello)
        challenge = handshake.until(ws, hello.id, ("challenge",))
        status = messages.status()
        handshake.send(ws, status)
        assert handshake.until(ws, status.id, ("error",)).fields["code"] == "not_ready"
        wrong_ref = messages.auth("e-other", proof=auth.client_proof(lan_engine.token, hello.fields["nonce"],
                                                                     challenge.fields["nonce"]))
        handshake.send(ws, wrong_ref)
        assert handshake.until(ws, wrong_ref.id, ("error",)).fields["code"] == "unauthorized"
    with lan_engine.raw() as ws:  # a protocol-1 client: told to update
        ws.send_text(json.dumps({"v": 1, "type": "hello", "id": "c1", "protocol": 1,
                                 "client": {"name": "softcut-krita", "version": "0.0.9"}, "token": lan_engine.token}))
        answer = handshake.until(ws, "c1", ("error",))
        assert answer.fields["code"] == "unsupported_version" and "update the plug-in" in answer.fields["message"]


def test_the_phone_scope_allows_what_the_phone_page_sends_and_no_more():
    """Every request type the phone page's scripts send (its jobs, and the shared client's status and
    cancel) is in the phone scope, and the scope holds nothing else; nothing editor-side is allowed."""
    import re

    from engine_server import scopes
    from engine_server.phone import http as phone_http

    page = "\n".join((phone_http.PAGE_DIR / name).read_text() for name in phone_http.PAGE_SCRIPTS)
    client = (ROOT / "plugins" / "photoshop_uxp" / "src" / "client.js").read_text()
    sent = set(re.findall(r'type: "([a-z_.]+)", fields', page))
    sent |= {"status"} if 'this.request("status")' in client else set()
    sent |= {"cancel"} if 'type: "cancel"' in client else set()
    assert sent == {"phone_cut", "phone_paste", "status", "cancel"}
    assert scopes.ALLOWED[scopes.PHONE] == frozenset(sent)
    for refused in ("select_subject", "phone_link", "placed", "snapshot", "video_start", "models.list"):
        assert not scopes.allows(scopes.PHONE, refused) and scopes.allows(scopes.EDITOR, refused)
    assert scopes.allows(scopes.PHONE, "hello")  # answered bad_message after the handshake, not unauthorized
    assert not scopes.allows(None, "status")
