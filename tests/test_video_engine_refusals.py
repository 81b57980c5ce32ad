"""Video streams through the engine (issue 10), what it refuses: a real ``softcut serve`` on loopback
with the tiny model, driven by hand and by the client. A frame the engine refuses (another size, a
corrupt PNG) gets its own error and the stream goes on; frames and ends for unknown, ended or another
connection's streams are not found."""

from __future__ import annotations

import pytest
from test_server import module_engine
from video_stream_support import H, Raw, W, buffers, disc_frames, frame_message, png

from wire.client import FrameError
from wire.protocol import messages


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """One engine with the tiny model for the module's tests (``engine.model``: its path)."""
    yield from module_engine(tmp_path_factory, "video-engine")


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

