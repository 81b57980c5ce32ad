"""Video streams through the engine (video_start / video_frame / video_end, issue 10): a real
`softcut serve` on loopback with the tiny model, driven by the client's video_matte and by hand.

Frames come back in order and equal core.video.pipeline.matte_frames run in-process; a
frame the engine refuses gets its own error and the stream goes on; cancelling, closing the
client's generator and closing the connection end the stream; streams do not keep other
clients waiting; a stream holds at most max_pending_frames frames.
"""

from __future__ import annotations

import io
import itertools
import threading
import time

import numpy as np
import pytest
from PIL import Image

from conftest import ServerThread, plate_scene, textured
from core.composite import cutout_rgba
from core.edges import EdgeControls
from core.imageio import float_to_uint8
from core.models.session import open_session
from core.subject.options import MatteOptions
from core.video.pipeline import VideoOptions, matte_frames
from wire.client import EngineError, FrameError, SoftcutClient, raw_image
from wire.protocol import codec, messages
from test_server import _hello, _send, module_engine

H, W = 72, 96


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """One engine with the tiny model for the module's tests (``engine.model``: its path)."""
    yield from module_engine(tmp_path_factory, "video-engine")


@pytest.fixture(scope="module")
def predict(engine):
    """The engine's model, in this process."""
    return open_session(str(engine.model), device="cpu").predict


def disc_frames(n: int, h: int = H, w: int = W, *, step: int = 3) -> list[np.ndarray]:
    """``n`` frames (h, w, 3) uint8 RGB: a red disc (the tiny model's subject) with a soft rim
    crossing a textured ground by ``step`` px a frame, with a little noise."""
    rng = np.random.default_rng(7)
    ground = textured(h, w, seed=3).astype(np.float32) / 255.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for k in range(n):
        alpha = np.clip(0.3 * h - np.hypot(yy - h / 2, xx - w / 3 - step * k), 0.0, 1.0)[..., None]
        image = alpha * np.float32([0.9, 0.15, 0.1]) + (1 - alpha) * ground
        image += rng.normal(0, 0.01, image.shape).astype(np.float32)
        out.append(float_to_uint8(np.clip(image, 0, 1)))
    return out


def buffers(frames: list[np.ndarray]) -> list:
    return [raw_image(f.shape[1], f.shape[0], "rgb8", f.tobytes()) for f in frames]


def reference(frames: list[np.ndarray], predict, options: VideoOptions = VideoOptions(), **plate):
    """matte_frames in this process on the frames as the engine decodes them."""
    return list(matte_frames([f.astype(np.float32) / 255.0 for f in frames], predict, options, **plate))


def grey(data: bytes, h: int = H, w: int = W) -> np.ndarray:
    return np.frombuffer(data, np.uint8).reshape(h, w).astype(int)


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


class Raw:
    """A bare connection that has said hello, for speaking the video messages by hand."""

    def __init__(self, server) -> None:
        self.ws = server.raw()
        assert _hello(self.ws, server.token).type == "welcome"
        self.decoder = codec.Decoder(role="client")
        self.seen: list[messages.Message] = []
        """Every message received, in order."""
        self._unclaimed: list[messages.Message] = []

    def send(self, message: messages.Message) -> messages.Message:
        _send(self.ws, message)
        return message

    def next(self, timeout: float = 30.0) -> messages.Message:
        deadline = time.monotonic() + timeout
        while True:
            message = self.decoder.feed(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message is not None:
                self.seen.append(message)
                return message

    def until(self, ref: str, *types: str, timeout: float = 30.0) -> messages.Message:
        """The first message about ``ref`` of one of ``types`` not returned before (it may have come already)."""
        for message in self._unclaimed:
            if message.ref == ref and message.type in types:
                self._unclaimed.remove(message)
                return message
        while True:
            message = self.next(timeout)
            if message.ref == ref and message.type in types:
                return message
            self._unclaimed.append(message)

    def close(self) -> None:
        self.ws.close()


def frame_message(stream: str, pixels: np.ndarray) -> messages.Message:
    h, w = pixels.shape[:2]
    return messages.video_frame(stream, raw_image(w, h, "rgb8", pixels.tobytes()))


# ---------------------------------------------------------------- results


def test_frames_come_back_in_order_and_equal_the_in_process_pipeline(engine, predict):
    frames = disc_frames(7)
    with engine.client() as client:
        results = list(client.video_matte(buffers(frames), window=3))
        summary = client.last_video
    assert [r.fields["index"] for r in results] == list(range(7))
    assert len({r.fields["frame"] for r in results}) == 7
    assert all(0 <= r.fields["confidence"] <= 1 for r in results)
    assert all(list(r.buffers) == ["alpha"] and r.specs["alpha"].format == "grey8" for r in results)
    expected = reference(frames, predict)
    for got, want in zip(results, expected):
        assert np.abs(grey(got.buffers["alpha"]) - float_to_uint8(want.alpha)).max() <= 1, got.fields["index"]
    assert summary["frames"] == 7 and summary["device"] == "cpu"
    assert {"decode", "model", "refine", "finish"} <= set(summary["timings"])


def test_cutout_and_foreground_with_edges_and_png(engine, predict):
    frames = disc_frames(4)
    with engine.client() as client:
        results = list(client.video_matte(buffers(frames), outputs=["cutout", "foreground", "alpha"],
                                          edges={"shift_edge": 30}, smoothing=0.5, delay=False))
        pngs = list(client.video_matte(buffers(frames), outputs=["cutout"], format="png"))
    options = VideoOptions(matte=MatteOptions(refine="fast", edges=EdgeControls(shift_edge=30)), delay=False,
                           smoothing=0.5)
    expected = reference(frames, predict, options)
    plain = reference(frames, predict)
    for got, want, unshifted in zip(results, expected, plain):
        assert list(got.buffers) == ["cutout", "foreground", "alpha"]
        alpha = grey(got.buffers["alpha"])
        assert np.abs(alpha - float_to_uint8(want.alpha)).max() <= 1
        assert alpha.sum() > float_to_uint8(unshifted.alpha).astype(int).sum(), "the edge moved outwards"
        foreground = np.frombuffer(got.buffers["foreground"], np.uint8).reshape(H, W, 3).astype(int)
        assert np.abs(foreground - float_to_uint8(want.foreground)).max() <= 1
        cutout = np.frombuffer(got.buffers["cutout"], np.uint8).reshape(H, W, 4).astype(int)
        assert np.abs(cutout - cutout_rgba(want.foreground, want.alpha)).max() <= 1
    for got, want in zip(pngs, plain):
        assert got.specs["cutout"].format == "png"
        decoded = np.asarray(Image.open(io.BytesIO(got.buffers["cutout"]))).astype(int)
        assert decoded.shape == (H, W, 4)
        assert np.abs(decoded - cutout_rgba(want.foreground, want.alpha)).max() <= 1


def test_a_clean_plate_helps_every_frame(engine, predict):
    image, plate, truth = plate_scene()
    h, w = truth.shape
    rng = np.random.default_rng(1)
    frames = [np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8) for _ in range(3)]
    # an rgba8 plate whose right third is transparent (no plate there), as an editor layer may be
    layer = np.dstack([plate, np.full((h, w), 255, np.uint8)])
    layer[:, 2 * w // 3:, 3] = 0
    with engine.client() as client:
        results = list(client.video_matte(buffers(frames), plate=raw_image(w, h, "rgb8", plate.tobytes(), name="plate")))
        plain = list(client.video_matte(buffers(frames)))
        masked = list(client.video_matte(buffers(frames), plate=raw_image(w, h, "rgba8", layer.tobytes(), name="plate")))
        assert client.last_video["timings"]["plate"] > 0 and client.last_video["frames_without_plate"] == 0
        elsewhere = textured(h, w, seed=11)  # a plate of another scene: no frame can be aligned to it
        unaligned = list(client.video_matte(buffers(frames), plate=raw_image(w, h, "rgb8", elsewhere.tobytes(),
                                                                            name="plate")))
        assert client.last_video["frames_without_plate"] == len(frames), "each frame matted without the plate"
    for got, want in zip(unaligned, plain):
        assert got.buffers["alpha"] == want.buffers["alpha"]
    expected = reference(frames, predict, plate=plate.astype(np.float32) / 255.0)
    expected_masked = reference(frames, predict, plate=plate.astype(np.float32) / 255.0,
                                plate_mask=layer[:, :, 3] >= 128)
    for got, without, part, want, want_part in zip(results, plain, masked, expected, expected_masked):
        alpha = grey(got.buffers["alpha"], h, w)
        assert np.abs(alpha - float_to_uint8(want.alpha)).max() <= 1
        assert np.abs(grey(part.buffers["alpha"], h, w) - float_to_uint8(want_part.alpha)).max() <= 1
        error = np.abs(alpha / 255.0 - truth).mean()
        assert error < 0.5 * np.abs(grey(without.buffers["alpha"], h, w) / 255.0 - truth).mean(), \
            "the plate removes the red shapes the model takes for the subject"


# ---------------------------------------------------------------- frames the engine refuses


def test_a_frame_of_another_size_is_refused_and_the_stream_goes_on(engine):
    frames = disc_frames(3)
    small = disc_frames(1, 40, 50)[0]
    raw = Raw(engine)
    try:
        start = raw.send(messages.video_start())
        assert raw.until(start.id, "accepted", "error").type == "accepted"
        sent = [raw.send(frame_message(start.id, f)) for f in (frames[0], small, frames[1], frames[2])]
        raw.send(messages.video_end(start.id))
        refused = raw.until(sent[1].id, "error")
        result = raw.until(start.id, "result", "error")
        assert refused.fields["code"] == "bad_parameter" and "72" in refused.fields["message"]
        answered = [m for m in raw.seen if m.ref == start.id and m.type == "frame"]
        assert [(m.fields["index"], m.fields["frame"]) for m in answered] == \
            [(0, sent[0].id), (1, sent[2].id), (2, sent[3].id)]
        assert result.type == "result" and result.fields["frames"] == 3 and not result.buffers
    finally:
        raw.close()
    with engine.client() as client:  # through the client: FrameError with the frame's position
        with pytest.raises(FrameError) as info:
            list(client.video_matte(buffers([frames[0], frames[1], small, frames[2]])))
        assert info.value.code == "bad_parameter" and info.value.position == 2
        assert client.status()["jobs"] == {"queued": 0, "running": 0}, "the stream was cancelled"


def test_a_corrupt_png_frame_is_refused_and_the_stream_goes_on(engine):
    frames = disc_frames(3)
    good = png(frames[1])
    corrupt = good[:60] + bytes(len(good) - 60)  # a valid header, then zeros: the data cannot be decoded
    raw = Raw(engine)
    try:
        start = raw.send(messages.video_start(outputs=["alpha", "cutout"]))
        raw.until(start.id, "accepted")
        first = raw.send(frame_message(start.id, frames[0]))
        broken = raw.send(messages.video_frame(start.id, messages.buffer("image", corrupt, format="png", width=W, height=H)))
        second = raw.send(messages.video_frame(start.id, messages.buffer("image", good, format="png", width=W, height=H)))
        third = raw.send(frame_message(start.id, frames[2]))
        raw.send(messages.video_end(start.id))
        error = raw.until(broken.id, "error")
        result = raw.until(start.id, "result", "error")
    finally:
        raw.close()
    assert error.fields["code"] == "bad_image"
    answered = [m for m in raw.seen if m.ref == start.id and m.type == "frame"]
    assert [m.fields["frame"] for m in answered] == [first.id, second.id, third.id]
    assert [m.fields["index"] for m in answered] == [0, 1, 2]
    assert all([s.name for s in m.specs] == ["alpha", "cutout"] for m in answered)
    assert result.type == "result" and result.fields["frames"] == 3


def test_unknown_ended_and_other_connections_streams_are_not_found(engine):
    one, other = Raw(engine), Raw(engine)
    try:
        stray = one.send(frame_message("no-such-stream", disc_frames(1)[0]))
        assert one.until(stray.id, "error").fields["code"] == "not_found"
        end = one.send(messages.video_end("no-such-stream"))
        assert one.until(end.id, "error").fields["code"] == "not_found"
        start = one.send(messages.video_start())
        one.until(start.id, "accepted")
        theirs = other.send(frame_message(start.id, disc_frames(1)[0]))  # another connection's stream
        assert other.until(theirs.id, "error").fields["code"] == "not_found"
        one.send(frame_message(start.id, disc_frames(1)[0]))
        one.send(messages.video_end(start.id))
        late = one.send(frame_message(start.id, disc_frames(1)[0]))  # after video_end
        assert one.until(late.id, "error").fields["code"] == "not_found"
        assert one.until(start.id, "result").fields["frames"] == 1
        again = one.send(messages.video_end(start.id))
        assert one.until(again.id, "error").fields["code"] == "not_found"
    finally:
        one.close()
        other.close()


# ---------------------------------------------------------------- ending early


def test_cancel_mid_stream_stops_the_frames_and_the_connection_goes_on(engine):
    raw = Raw(engine)
    try:
        start = raw.send(messages.video_start())
        raw.until(start.id, "accepted")
        for f in disc_frames(2):
            raw.send(frame_message(start.id, f))
        raw.until(start.id, "frame")  # frame 0; frame 1 waits for its successor: the stream is idle
        cancel = raw.send(messages.cancel(start.id))
        cancelled = raw.until(start.id, "cancelled", "result", "error")
        assert cancelled.type == "cancelled" and cancelled.fields["by"] == cancel.id
        late = raw.send(frame_message(start.id, disc_frames(1)[0]))
        assert raw.until(late.id, "error").fields["code"] == "not_found"
        end = raw.send(messages.video_end(start.id))
        assert raw.until(end.id, "error").fields["code"] == "not_found"
        status = raw.send(messages.status())
        assert raw.until(status.id, "status").fields["jobs"] == {"queued": 0, "running": 0}
        after = raw.seen[raw.seen.index(cancelled):]
        assert not [m for m in after if m.type == "frame"], "no frame follows cancelled"
        image = raw_image(W, H, "rgb8", disc_frames(1)[0].tobytes())
        select = raw.send(messages.select_subject(image, refine="fast"))
        assert raw.until(select.id, "result", "error").type == "result"
    finally:
        raw.close()


def test_leaving_the_client_loop_early_cancels_the_stream(engine):
    frames = disc_frames(3)
    endless = (raw_image(W, H, "rgb8", f.tobytes()) for f in itertools.cycle(frames))
    with engine.client() as client:
        for result in client.video_matte(endless):
            if result.fields["index"] == 2:
                break
        assert client.status()["jobs"] == {"queued": 0, "running": 0}, "break cancelled the stream"

        def failing():
            yield from buffers(frames)
            raise RuntimeError("the video file is truncated")

        got = []
        with pytest.raises(RuntimeError, match="truncated"):
            for result in client.video_matte(failing(), window=2):
                got.append(result.fields["index"])
        assert got == [0, 1]  # the third frame waits for its successor, which never comes
        assert client.status()["jobs"] == {"queued": 0, "running": 0}
        again = list(client.video_matte(buffers(frames)))  # the connection serves the next stream
        assert [r.fields["index"] for r in again] == [0, 1, 2]


def test_closing_the_connection_mid_stream_frees_the_engine(engine):
    raw = Raw(engine)
    start = raw.send(messages.video_start())
    raw.until(start.id, "accepted")
    for f in disc_frames(3):
        raw.send(frame_message(start.id, f))
    raw.until(start.id, "frame")
    with engine.client() as client:
        assert client.status()["jobs"]["running"] == 1
        raw.close()
        deadline = time.monotonic() + 10
        while client.status()["jobs"] != {"queued": 0, "running": 0}:
            assert time.monotonic() < deadline, "the closed connection's stream still runs"
            time.sleep(0.05)


# ---------------------------------------------------------------- sharing the engine


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


def test_softcut_client_video_writes_one_cutout_per_frame(engine, predict, tmp_path):
    import os
    import subprocess
    import sys

    from core.imageio import save_png

    frames = disc_frames(4)
    source = tmp_path / "in"
    source.mkdir()
    names = ["frame1", "frame2", "frame9", "frame10"]  # natural order, not the names' order
    for name, f in zip(names, frames):
        save_png(source / f"{name}.png", f)
    env = {**os.environ, "SOFTCUT_CONFIG": str(engine.config)}
    done = subprocess.run([sys.executable, "-m", "softcut_app.cli", "client", "video", str(source),
                           str(tmp_path / "out"), "--port", str(engine.port), "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"frames": 4' in done.stdout
    expected = reference(frames, predict)
    for name, want in zip(names, expected):
        cutout = np.asarray(Image.open(tmp_path / "out" / f"{name}.png")).astype(int)
        assert np.abs(cutout[:, :, 3] - float_to_uint8(want.alpha)).max() <= 1


def test_client_video_refuses_frames_that_would_write_the_same_output(tmp_path, capsys):
    from core.imageio import save_png
    from softcut_app.cli import main

    frames = disc_frames(2)
    source = tmp_path / "in"
    source.mkdir()
    save_png(source / "f.png", frames[0])
    Image.fromarray(float_to_uint8(frames[1])).save(source / "f.jpg")
    assert main(["client", "video", str(source), str(tmp_path / "out"), "--port", "1"]) != 0
    assert "f.jpg and f.png would both be written as f.png" in capsys.readouterr().err
    assert not (tmp_path / "out").exists(), "refused before anything is written or sent"
