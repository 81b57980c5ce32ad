"""Video streams through the engine (issue 10), sharing it: a real ``softcut serve`` on loopback with
the tiny model. Open and running streams do not keep other clients waiting; a stream holds at most
max_pending_frames frames (the rest are busy), which the welcome announces."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from server_thread import ServerThread
from test_server import module_engine
from video_stream_support import H, Raw, W, buffers, disc_frames, frame_message

from core.models.session import open_session
from wire.client import EngineError, SoftcutClient, raw_image
from wire.protocol import messages


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """One engine with the tiny model for the module's tests (``engine.model``: its path)."""
    yield from module_engine(tmp_path_factory, "video-engine")


def test_open_streams_do_not_keep_another_clients_select_subject_waiting(engine):
    """More open streams than the engine has job runners (2): a Select Subject is still served."""
    frames = disc_frames(3)
    raw = Raw(engine)
    try:
        starts = [raw.send(messages.video_start()) for _ in range(3)]
        for start in starts:
            raw.until(start.id, "accepted")
            for f in frames[:2]:
                raw.send(frame_message(start.id, f))
        for start in starts:
            raw.until(start.id, "frame")  # every stream is running
        client = SoftcutClient(port=engine.port, token=engine.token, timeout=15)
        with client:
            result = client.select_subject(raw_image(W, H, "rgb8", frames[0].tobytes()), refine="fast")
            assert result.result_id and client.status()["jobs"]["running"] == 3
        for start in starts:
            raw.send(messages.video_end(start.id))
        for start in starts:
            assert raw.until(start.id, "result", "error").fields["frames"] == 2
    finally:
        raw.close()


def test_a_running_stream_lets_another_client_in_between_its_frames(engine):
    """A long stream is running (frames flowing): another client's Select Subject is answered
    before the stream ends, not after it."""
    frames = disc_frames(6, 240, 320, step=8)
    stream_done = threading.Event()
    seen = []

    def stream():
        with engine.client() as client:
            for result in client.video_matte(raw_image(320, 240, "rgb8", f.tobytes()) for f in itertools.chain(*[frames] * 4)):
                seen.append(result.fields["index"])
        stream_done.set()

    worker = threading.Thread(target=stream)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while len(seen) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with engine.client() as client:
            client.select_subject(raw_image(320, 240, "rgb8", frames[0].tobytes()), refine="fast")
            answered_during = not stream_done.is_set()
    finally:
        worker.join(60)
    assert len(seen) == 24
    assert answered_during, "the select_subject was answered while the stream ran, not after it"


# ---------------------------------------------------------------- the pending-frame limit


class GatedEngine(ServerThread):
    """An engine in this process whose model waits for ``gate`` (so frames pile up on purpose)."""

    TOKEN = "gated-token"

    def __init__(self, model, outbox) -> None:
        from engine_server.engine import Engine as Core
        from engine_server.server import EngineServer

        session = open_session(str(model), device="cpu")
        self.gate = threading.Event()
        predict = session.predict

        def gated(image):
            assert self.gate.wait(30), "the test never opened the gate"
            return predict(image)

        session.predict = gated
        super().__init__(EngineServer(Core(session), self.TOKEN, host="127.0.0.1", port=0, outbox_dir=outbox))

    def raw(self):
        from testing.raw_websocket import RawWebSocket

        return RawWebSocket.connect("127.0.0.1", self.port, timeout=10)

    @property
    def token(self) -> str:
        return self.TOKEN


def test_frames_beyond_max_pending_frames_are_busy(engine, tmp_path):
    gated = GatedEngine(engine.model, tmp_path / "outbox")
    raw = Raw(gated)
    try:
        limit = 8
        start = raw.send(messages.video_start())
        raw.until(start.id, "accepted")
        frames = disc_frames(limit + 3)
        sent = [raw.send(frame_message(start.id, f)) for f in frames]  # the first waits in the model
        for extra in sent[limit:]:
            busy = raw.until(extra.id, "error")
            assert busy.fields["code"] == "busy" and "max_pending_frames" in busy.fields["message"]
        gated.gate.set()
        raw.send(messages.video_end(start.id))
        result = raw.until(start.id, "result", "error")
        answered = [m.fields["frame"] for m in raw.seen if m.ref == start.id and m.type == "frame"]
        assert answered == [m.id for m in sent[:limit]] and result.fields["frames"] == limit
    finally:
        gated.gate.set()
        raw.close()
        gated.stop()


def test_welcome_announces_video_and_the_pending_frame_limit(engine):
    with engine.client() as client:
        assert {"video", "video_start", "video_frame", "video_end"} <= set(client.welcome["capabilities"])
        assert client.welcome["limits"]["max_pending_frames"] == 8
        with pytest.raises(ValueError, match="window"):
            client.video_matte([], window=1)
        with pytest.raises(EngineError) as refused:  # checked on arrival: no stream opens
            list(client.video_matte(buffers(disc_frames(2)), smoothing=1.0))
        assert refused.value.code == "bad_parameter" and refused.value.message.startswith("smoothing:")
        assert [r.fields["index"] for r in client.video_matte(buffers(disc_frames(2)))] == [0, 1]

