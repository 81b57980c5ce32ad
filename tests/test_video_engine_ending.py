"""Video streams through the engine (issue 10), ending early: a real ``softcut serve`` on loopback
with the tiny model. Cancelling, leaving the client's loop (or its frames failing) and closing the
connection end the stream and free the engine; the connection goes on."""

from __future__ import annotations

import itertools
import time

import pytest
from test_server import module_engine
from video_stream_support import H, Raw, W, buffers, disc_frames, frame_message

from wire.client import raw_image
from wire.protocol import messages


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """One engine with the tiny model for the module's tests (``engine.model``: its path)."""
    yield from module_engine(tmp_path_factory, "video-engine")


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

