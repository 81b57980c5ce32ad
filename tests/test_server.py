"""The engine server as a real process on loopback, driven by the real client.

Uses a tiny ONNX model (built in the test) so jobs are quick; the default model
is exercised in tests/test_server_real_model.py.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import handshake
from sample_images import red_disc_image
from server_thread import ServerThread
from tiny_models import build_tiny_model, write_sidecar
from core.imageio import float_to_uint8, raw_to_image
from core.models.session import open_session
from core.subject.trimap import subject_trimap
from wire.client import EngineError, EngineImpostor, EngineUnavailable, SoftcutClient, raw_image
from testing.raw_websocket import ConnectionClosed, HandshakeError, RawWebSocket
from testing.launcher import EngineProcess
from wire.protocol import codec, messages
from engine_server.security import PairingCodes
from engine_server.tokens import TokenStore
from engine_server.server import EngineServer


class Engine(EngineProcess):
    """A `softcut serve` child process on an OS-assigned loopback port, with its own config."""

    def __init__(self, tmp: Path, model: Path | str, *extra: str, home: Path | None = None) -> None:
        super().__init__(tmp / "config", model, "--device", "cpu", *extra, home=home or tmp / "home", timeout=60)

    def client(self, **kw) -> SoftcutClient:
        return SoftcutClient(port=self.port, token=self.token, timeout=60, **kw)

    def raw(self) -> RawWebSocket:
        """A bare WebSocket connection, for speaking (and mis-speaking) the protocol by hand."""
        return RawWebSocket.connect("127.0.0.1", self.port, timeout=10)


def module_engine(tmp_path_factory, name: str):
    """Body of a module-scoped engine fixture: one engine with the tiny model for a module's
    tests (``engine.model``: its path); stopped when the module is done."""
    tmp = tmp_path_factory.mktemp(name)
    model = build_tiny_model(tmp / "tiny.onnx")
    write_sidecar(model)
    server = Engine(tmp, model)
    server.model = model
    yield server
    server.stop()


@pytest.fixture
def engine(tmp_path, tiny_model):
    server = Engine(tmp_path, tiny_model, "--allow-origin", "uxp://softcut.test")
    yield server
    server.stop()


def _disc(h=120, w=160):
    image, alpha = red_disc_image(h, w)
    return raw_image(w, h, "rgb8", float_to_uint8(image).tobytes()), alpha


_send = handshake.send
_until = handshake.until
_hello_with = handshake.handshake


def _hello(ws, token):
    """The whole handshake (hello, challenge, auth): welcome, or the error that refused it."""
    return handshake.handshake(ws, token)


def test_token_file_is_private_and_hello_answers_with_engine_facts(engine):
    assert (engine.config / "token").stat().st_mode & 0o777 == 0o600
    with engine.client() as client:
        welcome = client.welcome
    assert welcome["protocol"] == 2 and welcome["device"] == "cpu"
    assert {"select_subject", "adjust_edges", "refine", "trimap", "cancel"} <= set(welcome["capabilities"])
    assert welcome["limits"]["max_pixels"] == 100_000_000
    assert any(m["loaded"] for m in welcome["models"])


def test_wrong_token_web_origins_and_requests_before_hello_are_refused(engine):
    # a wrong token: the engine's proof does not match it, so the client stops before proving anything
    with pytest.raises(EngineImpostor, match="could not prove it knows the token"):
        SoftcutClient(port=engine.port, token="not-the-token", timeout=10).connect()
    with engine.raw() as ws:  # a client that skips that check still cannot get in: wrong proof
        answer = _hello_with(ws, engine.token, proof="0" * 64)
        assert answer.type == "error" and answer.fields["code"] == "unauthorized" and _closed_with(ws) == 4001
    with pytest.raises(HandshakeError) as refused:
        RawWebSocket.connect("127.0.0.1", engine.port, origin="https://evil.example", timeout=10)
    assert refused.value.status_code == 403
    RawWebSocket.connect("127.0.0.1", engine.port, origin="uxp://softcut.test", timeout=10).close()
    with engine.raw() as ws:
        status = messages.status()
        _send(ws, status)
        assert _until(ws, status.id, ("error",)).fields["code"] == "not_ready"


def test_select_subject_outputs_and_adjust_edges(engine):
    image, truth = _disc()
    with engine.client() as client:
        seen = []
        result = client.select_subject(image, outputs=["alpha", "cutout", "trimap", "coarse"], refine="fast",
                                       progress=lambda f, s: seen.append(s))
        alpha = np.frombuffer(result.buffers["alpha"], np.uint8).reshape(120, 160) / 255.0
        assert np.abs(alpha - truth).mean() < 0.03
        assert result.specs["cutout"].format == "rgba8" and result.specs["trimap"].width == 160
        assert result.fields["device"] == "cpu" and result.result_id
        # Reports come in the pipeline's order, the first one at once; later ones are thinned to one per
        # PROGRESS_INTERVAL_S, and one whose turn to be written comes after the job's end is dropped (the
        # result says the rest), so which of the last ones arrive depends on the timing.
        order = ["decoded", "resize", "model", "trimap", "refine", "upsample", "edges", "foreground"]
        assert seen and seen[0] == "decoded" and set(seen) <= set(order), seen
        assert [order.index(stage) for stage in seen] == sorted(order.index(stage) for stage in seen), seen
        harder = client.adjust_edges(result.result_id, edges={"contrast": 100})
        hard = np.frombuffer(harder.buffers["alpha"], np.uint8)
        assert set(np.unique(hard)) <= {0, 255}
        with pytest.raises(EngineError, match="not_found"):
            client.adjust_edges("0123456789abcdef")
        png = client.select_subject(image, outputs=["alpha"], format="png", refine="none")
        assert png.buffers["alpha"][:8] == b"\x89PNG\r\n\x1a\n"


def test_trimap_refine_models_and_status(engine, tiny_model):
    image, truth = _disc()
    with engine.client() as client:
        trimap = np.frombuffer(client.trimap(image).buffers["trimap"], np.uint8)
        assert set(np.unique(trimap)) == {0, 128, 255}
        # The same trimap as core's (its colour rule included).
        pixels = raw_to_image(image[1], 160, 120, "rgb8")
        core_trimap, _ = subject_trimap(pixels, open_session(str(tiny_model), device="cpu").predict)
        np.testing.assert_array_equal(trimap.reshape(120, 160), core_trimap)
        guide = raw_image(160, 120, "grey8", trimap.tobytes(), name="guide")
        alpha = np.frombuffer(client.refine(image, guide, mode="best").buffers["alpha"], np.uint8).reshape(120, 160)
        assert np.abs(alpha / 255.0 - truth).mean() < 0.03
        assert client.models()
        status = client.status()
        assert status["jobs"] == {"queued": 0, "running": 0} and status["jobs_done"] >= 2


def test_malformed_messages_get_errors_and_the_engine_stays_up(engine):
    with engine.raw() as ws:
        assert _hello(ws, engine.token).type == "welcome"
        decoder = codec.Decoder(role="client")
        # A stray binary frame first: after an error the decoder drops binary frames
        # up to the next text frame (one error per broken message, by design).
        for bad in (b"\x00" * 10, "{not json", "[]", json.dumps({"v": 2, "type": "select_subject", "id": "x1"}),
                    json.dumps({"v": 2, "type": "no_such_op", "id": "x2"})):
            (ws.send_text if isinstance(bad, str) else ws.send_binary)(bad)
            msg = None
            while msg is None:
                msg = decoder.feed(ws.recv(timeout=10))
            assert msg.type == "error" and msg.fields["code"] in ("bad_message", "bad_parameter", "unknown_type")
        status = messages.status()
        _send(ws, status)
        assert _until(ws, status.id, ("status",), decoder).fields["clients"] == 1


def test_queue_limit_cancel_and_disconnect(tmp_path, tiny_model):
    server = Engine(tmp_path, tiny_model, "--max-queued", "3")
    try:
        big, _ = _disc(2400, 3200)  # several seconds with refine=best: jobs stay queued, job 0 runs
        with server.raw() as ws:
            _hello(ws, server.token)
            decoder = codec.Decoder(role="client")
            jobs = [messages.select_subject(big, refine="best", priority="batch") for _ in range(4)]
            for job in jobs:
                _send(ws, job)
            answers = {}
            while len(answers) < 4:
                msg = decoder.feed(ws.recv(timeout=30))
                if msg is not None and msg.type in ("accepted", "error"):
                    answers[msg.ref] = msg
            assert answers[jobs[3].id].fields["code"] == "busy"
            cancel = messages.cancel(jobs[2].id)  # still queued behind the others
            _send(ws, cancel)
            assert _until(ws, jobs[2].id, ("cancelled",), decoder).fields.get("by") == cancel.id
            _until(ws, jobs[0].id, ("progress",), decoder)  # job 0 is running now
            _send(ws, messages.cancel(jobs[0].id))  # it stops at its next stage, seconds before its end
            assert _until(ws, jobs[0].id, ("cancelled", "result"), decoder, timeout=60).type == "cancelled"
        # The connection is gone with job 1 still queued or running: the engine frees it.
        with server.client() as client:
            deadline = time.monotonic() + 60
            while client.status()["jobs"] != {"queued": 0, "running": 0}:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        server.stop()


def test_engine_killed_mid_job_gives_the_client_a_clean_error(tmp_path, tiny_model):
    server = Engine(tmp_path, tiny_model)
    big, _ = _disc(1500, 2000)
    client = server.client()
    client.connect()
    killer = threading.Timer(0.5, server.proc.kill)
    killer.start()
    try:
        with pytest.raises(EngineUnavailable):
            client.select_subject(big, refine="best")
    finally:
        killer.cancel()
        server.stop()
    with pytest.raises(EngineUnavailable, match="softcut serve"):
        SoftcutClient(port=server.port, token=server.token, timeout=5).connect()


def test_a_model_the_engine_has_not_loaded_is_not_found(engine):
    image, _ = _disc()
    with engine.raw() as ws:
        _hello(ws, engine.token)
        request = messages.select_subject(image, model="u2net")
        _send(ws, request)
        answer = _until(ws, request.id, ("error", "result"))
        assert answer.type == "error" and answer.fields["code"] == "not_found"


def test_client_reconnects_after_a_dropped_connection_and_sigterm_stops_cleanly(tmp_path, tiny_model):
    server = Engine(tmp_path, tiny_model)
    image, _ = _disc()
    client = server.client()
    client.connect()
    client._ws.close()  # the connection drops between two requests
    assert client.select_subject(image, refine="none").result_id  # reconnected, said hello again
    client.close()
    server.stop()
    assert server.proc.returncode == 0
    assert any("engine stopped" in line for line in server.log)


def test_pixel_limit_is_enforced_from_the_announcement_before_any_payload(tmp_path, tiny_model):
    server = Engine(tmp_path, tiny_model, "--max-pixels", "10000")
    try:
        with server.raw() as ws:
            _hello(ws, server.token)
            big = messages.select_subject(raw_image(200, 100, "grey8", bytes(200 * 100)))
            frames = codec.encode(big)
            ws.send_text(frames[0])  # the JSON alone: refused before the payload is sent
            answer = _until(ws, big.id, ("error",))
            assert answer.fields["code"] == "image_too_large"
            assert server.proc.poll() is None
    finally:
        server.stop()


def test_a_taken_port_is_a_clear_error_not_a_hang(engine, tiny_model, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SOFTCUT_CONFIG": str(tmp_path / "other"), "SOFTCUT_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "softcut_app.cli", "serve", "--port", str(engine.port), "--model", str(tiny_model)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 2 and "cannot listen on 127.0.0.1" in done.stderr


# ---------------------------------------------------------------- pairing codes


class InProcessEngine(ServerThread):
    """An EngineServer in this process (its own thread and event loop) on a loopback port, built with
    options `softcut serve` does not expose: a chosen token and pairing codes, or none."""

    TOKEN = "in-process-token"

    def __init__(self, model: Path, pairing: PairingCodes | None, config: Path) -> None:
        from core.models.session import open_session
        from engine_server.engine import Engine as Core

        self.pairing = pairing
        self.tokens = TokenStore(config / "tokens.json")
        self.server = EngineServer(Core(open_session(str(model), device="cpu")), self.TOKEN,
                                   host="127.0.0.1", port=0, pairing=pairing, tokens=self.tokens)
        super().__init__(self.server)

    def raw(self) -> RawWebSocket:
        return RawWebSocket.connect("127.0.0.1", self.port, timeout=10)



@pytest.fixture
def paired_engine(tiny_model, tmp_path):
    server = InProcessEngine(tiny_model, PairingCodes(), tmp_path)
    yield server
    server.stop()


def _pair(ws, code):
    pair = messages.pair(code, client={"name": "test-panel", "version": "0"})
    _send(ws, pair)
    return _until(ws, pair.id, ("paired", "error"))


def _closed_with(ws) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    return closed.value.code


def test_pair_then_hello_on_the_same_connection(paired_engine):
    code = paired_engine.pairing.current
    with paired_engine.raw() as ws:
        paired = _pair(ws, code)
        assert paired.type == "paired" and paired.fields["scope"] == "editor"
        assert InProcessEngine.TOKEN not in paired.fields["credential"]  # a scoped token, never the master
        welcome = _hello(ws, paired.fields["credential"])
        assert welcome.type == "welcome" and "pair" in welcome.fields["capabilities"]
        again = _pair(ws, paired_engine.pairing.current)  # the handshake is over
        assert again.type == "error" and again.fields["code"] == "bad_message"
        status = messages.status()
        _send(ws, status)
        assert _until(ws, status.id, ("status",)).fields["clients"] == 1


def test_a_wrong_code_is_unauthorized_and_closes_the_connection(paired_engine):
    code = paired_engine.pairing.current
    with paired_engine.raw() as ws:
        answer = _pair(ws, f"{(int(code) + 1) % 1_000_000:06d}")
        assert answer.type == "error" and answer.fields["code"] == "unauthorized"
        assert "wrong or expired" in answer.fields["message"] and "softcut serve" in answer.fields["message"]
        assert _closed_with(ws) == 4001


def test_a_used_code_is_refused_the_second_time(paired_engine):
    code = paired_engine.pairing.current
    with paired_engine.raw() as ws:
        assert _pair(ws, code).type == "paired"
    if paired_engine.pairing.current == code:  # the replacement drew the same digits (1 in a million)
        pytest.skip("the new code repeats the old one")
    with paired_engine.raw() as ws:
        answer = _pair(ws, code)
        assert answer.fields["code"] == "unauthorized" and _closed_with(ws) == 4001


def test_a_wrong_code_keeps_the_code_and_expiry_is_announced_on_time(tiny_model, tmp_path):
    """Wrong codes never replace the user's code; an expired one is replaced and announced within about a
    second, with nobody offering a code (the engine reads it every second)."""
    announced = []
    server = InProcessEngine(tiny_model, PairingCodes(lifetime_s=3.0, on_new=announced.append), tmp_path)
    try:
        first = server.pairing.current
        with server.raw() as ws:
            assert _pair(ws, f"{(int(first) + 1) % 1_000_000:06d}").fields["code"] == "unauthorized"
        assert announced == []
        deadline = time.monotonic() + 6
        while not announced:
            assert time.monotonic() < deadline, "the expired code was not replaced"
            time.sleep(0.05)
        with server.raw() as ws:
            assert _pair(ws, announced[0]).type == "paired"
    finally:
        server.stop()


def test_a_malformed_code_is_a_bad_parameter_and_costs_no_try(paired_engine):
    code = paired_engine.pairing.current
    with paired_engine.raw() as ws:
        answer = _pair(ws, "12345")
        assert answer.fields["code"] == "bad_parameter" and answer.fields["message"].startswith("code:")
        assert _pair(ws, code).type == "paired"  # same connection, still open


def test_an_engine_without_pairing_refuses_pair(tiny_model, tmp_path):
    server = InProcessEngine(tiny_model, None, tmp_path)
    try:
        with server.raw() as ws:
            answer = _pair(ws, "123456")
            assert answer.fields["code"] == "unauthorized" and "pairing is off" in answer.fields["message"]
            assert _closed_with(ws) == 4001
        with server.raw() as ws:
            welcome = _hello(ws, InProcessEngine.TOKEN)
            assert welcome.type == "welcome" and "pair" not in welcome.fields["capabilities"]
    finally:
        server.stop()


def test_softcut_serve_prints_a_pairing_code_that_pairs_and_then_a_new_one(tmp_path, tiny_model):
    server = Engine(tmp_path, tiny_model)
    try:
        (first,) = server.pairing_codes()
        assert any(f"pairing code: {first}" in line for line in server.log)
        client = SoftcutClient(port=server.port, timeout=30, name="test-panel")
        credential = client.pair(first)
        assert server.token not in credential and client.scope == "editor"
        assert client.welcome["protocol"] == 2 and client.status()["clients"] == 1
        client.close()
        deadline = time.monotonic() + 10
        while len(server.pairing_codes()) < 2:  # the used code was replaced, and the new one printed
            assert time.monotonic() < deadline, server.log
            time.sleep(0.05)
        again = SoftcutClient(port=server.port, timeout=30).pair(server.pairing_codes()[1])
        assert again.split(".")[0] != credential.split(".")[0]  # a token of its own for each pairing
        with SoftcutClient(port=server.port, token=credential, timeout=30) as paired:  # the first still works
            assert paired.status()["clients"] >= 1
        with pytest.raises(EngineError, match="unauthorized: wrong or expired pairing code"):
            SoftcutClient(port=server.port, timeout=30).pair(f"{(int(first) + 1) % 1_000_000:06d}")
    finally:
        server.stop()
