"""The protocol codec's encoder and the message constructors, byte for byte, with no server and no sockets."""

from __future__ import annotations

import pytest

from protocol_support import NONCE
from wire.protocol import codec, messages, schemas
from wire.protocol.codec import encode
from wire.protocol.messages import BufferSpec, Message


# ---------------------------------------------------------------- encode, byte for byte


def test_encode_select_subject_exact_frames():
    pixels = bytes(range(24))
    image = messages.buffer("image", pixels, format="rgba8", width=2, height=3)
    frames = encode(messages.select_subject(image, outputs=["alpha", "cutout"], edges={"feather": 1.5}, id="c2"))
    assert frames == [
        '{"v":2,"type":"select_subject","id":"c2","buffers":[{"name":"image","format":"rgba8","width":2,"height":3,'
        '"size":24}],"outputs":["alpha","cutout"],"format":"raw","refine":"best","edges":{"feather":1.5},'
        '"decontaminate":1.0,"band":0.015,"priority":"interactive"}',
        pixels,
    ]
    assert frames[1] is pixels  # no copy


def test_encode_replies_exact():
    assert encode(messages.accepted("c2", position=0, id="e2")) == ['{"v":2,"type":"accepted","id":"e2","ref":"c2","position":0}']
    assert encode(messages.progress("c2", fraction=0.5, stage="model", id="e3")) == [
        '{"v":2,"type":"progress","id":"e3","ref":"c2","fraction":0.5,"stage":"model"}'
    ]
    assert encode(messages.error("bad_message", "not JSON", id="e4")) == [
        '{"v":2,"type":"error","id":"e4","code":"bad_message","message":"not JSON"}'
    ]
    assert encode(messages.cancelled("c8", by="c9", id="e5")) == ['{"v":2,"type":"cancelled","id":"e5","ref":"c8","by":"c9"}']
    assert encode(messages.paired("t1.s3cr3t", scope="editor", ref="c0", id="e0")) == [
        '{"v":2,"type":"paired","id":"e0","ref":"c0","credential":"t1.s3cr3t","scope":"editor"}']
    assert encode(messages.pair("123456", client={"name": "ps", "version": "1"}, id="c0")) == [
        '{"v":2,"type":"pair","id":"c0","code":"123456","client":{"name":"ps","version":"1"}}'
    ]
    nonce = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    assert encode(messages.hello(key="master", nonce=nonce, client_name="gimp", client_version="1", id="c1")) == [
        '{"v":2,"type":"hello","id":"c1","protocol":2,"client":{"name":"gimp","version":"1"},"key":"master","nonce":"'
        + nonce + '"}'
    ]
    assert encode(messages.challenge("c1", nonce=nonce, proof=nonce[::-1], id="e1")) == [
        '{"v":2,"type":"challenge","id":"e1","ref":"c1","nonce":"' + nonce + '","proof":"' + nonce[::-1] + '"}']
    assert encode(messages.auth("e1", proof=nonce, id="c2")) == ['{"v":2,"type":"auth","id":"c2","ref":"e1","proof":"' + nonce + '"}']


def test_encode_result_fills_specs_from_payloads_and_objects():
    class Out:  # the server's OutBuffer shape
        name, format, width, height, data = "cutout", "rgba8", 1, 1, b"\x01\x02\x03\x04"

    alpha = (BufferSpec("alpha", "grey8", 2, 1), b"\x00\xff")
    frames = encode(messages.result("c2", {"result": "r1", "confidence": 0.9}, [alpha, Out()], id="e9"))
    assert frames == [
        '{"v":2,"type":"result","id":"e9","ref":"c2","buffers":[{"name":"alpha","format":"grey8","width":2,"height":1,"size":2},'
        '{"name":"cutout","format":"rgba8","width":1,"height":1,"size":4}],"result":"r1","confidence":0.9}',
        b"\x00\xff",
        b"\x01\x02\x03\x04",
    ]


def test_encode_memoryview_is_cast_to_bytes_view():
    data = memoryview(bytearray(12)).cast("B", (2, 2, 3))  # like a numpy (H, W, 3) buffer
    frames = encode(messages.select_subject(messages.buffer("image", data, format="rgb8", width=2, height=2), id="c1"))
    assert isinstance(frames[1], memoryview) and frames[1].nbytes == 12 and frames[1].ndim == 1
    assert '"size":12' in frames[0]


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: Message("status", "bad id"), ValueError),
        (lambda: Message("status", "c1", fields={"v": 2}), ValueError),
        (lambda: Message("progress", "e1", "c1", {"fraction": float("nan"), "stage": "x"}), ValueError),
        (lambda: Message("result", "e1", "c1", {}, [(BufferSpec("alpha", "grey8", 2, 2), b"abc")]), ValueError),
        (lambda: Message("status", "c1", fields={"x": object()}), TypeError),
    ],
)
def test_encode_refuses_malformed_messages(make, error):
    with pytest.raises(error):
        encode(make())


def test_buffer_spec_checks_raw_sizes():
    with pytest.raises(ValueError, match="size"):
        messages.buffer("image", bytes(5), format="rgb8", width=2, height=1)
    with pytest.raises(ValueError, match="format"):
        BufferSpec("image", "webp", 1, 1)
    assert messages.buffer("image", b"png?", format="png", width=9, height=9)[0].size == 4


def test_round_trip_every_constructor():
    image = messages.buffer("image", bytes(4 * 6), format="rgba8", width=2, height=3)
    guide = messages.buffer("guide", bytes(6), format="grey8", width=2, height=3)
    requests = [
        messages.hello(key="master", nonce="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", client_name="n", client_version="v"),
        messages.auth("e1", proof="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        messages.pair("012345", client={"name": "softcut-photoshop", "version": "0.1.0"}),
        messages.select_subject(image, model="isnet"),
        messages.trimap(image),
        messages.refine(image, guide, guide_kind="mask"),
        messages.adjust_edges("r1", edges={"smooth": 10}),
        messages.models_list(),
        messages.status(),
        messages.cancel("c1"),
        messages.video_start(),
        messages.video_start(plate=messages.buffer("plate", bytes(24), format="rgba8", width=2, height=3),
                             outputs=["cutout", "alpha"], edges={"feather": 2}, delay=False, smoothing=0),
        messages.video_frame("c1", image),
        messages.video_end("c1"),
    ]
    for request in requests:
        schemas.check_request(request)
        assert codec.decode_all(encode(request)) == [request]
    replies = [
        messages.paired("t1.tok-en_1", scope="phone", ref="c0"),
        messages.challenge("c1", nonce=NONCE, proof=NONCE),
        messages.welcome("c1", engine={"name": "softcut", "version": "0"}, device="cpu", models=[{"name": "isnet"}],
                         limits=messages.Limits()),
        messages.accepted("c2", position=3),
        messages.progress("c2", fraction=1, stage="edges"),
        messages.result("c2", {"result": "r1", "timings": {"model": 1.0}}, [messages.buffer("alpha", bytes(6), format="grey8", width=2, height=3)]),
        messages.error("busy", "queue full", ref="c2"),
        messages.cancelled("c2"),
        messages.reply("models", "c3", models=[{"name": "isnet", "loaded": True}]),
        messages.reply("status", "c4", device="cpu", jobs={"queued": 0, "running": 1}),
        messages.frame("c5", index=0, frame="c6", confidence=0.9,
                       buffers=[messages.buffer("alpha", bytes(6), format="grey8", width=2, height=3)]),
        messages.result("c5", {"result": "r2", "frames": 3, "timings": {"model": 0.1}, "device": "cpu"}, []),
    ]
    for reply in replies:
        schemas.check_reply(reply)
        assert codec.decode_all(encode(reply), role="client") == [reply]


def test_ids():
    ids = messages.IdGenerator("c")
    assert [ids(), ids()] == ["c1", "c2"]
    a, b = messages.new_id(), messages.new_id()
    assert a != b and messages.is_valid_id(a) and len(a) == 17
    assert not messages.is_valid_id("a\n") and not messages.is_valid_id("x" * 65) and not messages.is_valid_id("")
