"""The protocol codec, byte for byte and frame by frame, with no server and no sockets."""

from __future__ import annotations

import ast
import json
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from wire.protocol import codec, docgen, messages, schemas
from wire.protocol.codec import Decoder, DecoderState, encode
from wire.protocol.errors import ERROR_CODES, ErrorCode, InvalidState, ProtocolError
from wire.protocol.messages import BufferSpec, Message

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "protocol.md"
PACKAGE = ROOT / "wire" / "protocol"


def png(width: int, height: int) -> bytes:
    """A valid grey 8-bit PNG of ``width`` x ``height`` black pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(width) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return codec.PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def header(type_: str, id_: str = "c1", buffers: list | None = None, **fields) -> str:
    obj = {"v": 2, "type": type_, "id": id_}
    if buffers is not None:
        obj["buffers"] = buffers
    obj.update(fields)
    return json.dumps(obj)


def spec(name="image", fmt="rgba8", w=2, h=3, size=None) -> dict:
    if size is None:
        size = w * h * schemas.RAW_CHANNELS.get(fmt, 1)
    return {"name": name, "format": fmt, "width": w, "height": h, "size": size}


def raises(decoder: Decoder, frame, code: str, ref: str | None = "c1") -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decoder.feed(frame)
    assert (info.value.code, info.value.ref) == (code, ref), info.value
    return info.value


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


# ---------------------------------------------------------------- the decoder


def test_decoder_message_without_buffers():
    d = Decoder()
    assert d.feed('{"v":2,"type":"status","id":"c7"}') == Message("status", "c7")
    assert d.state is DecoderState.HEADER


def test_decoder_waits_for_buffers_in_order():
    d = Decoder()
    image, guide = bytes(range(24)), bytes(6)
    assert d.feed(header("refine", buffers=[spec(), spec("guide", "grey8")], guide="mask")) is None
    assert d.state is DecoderState.BUFFERS and d.pending == "c1"
    assert d.feed(bytearray(image)) is None
    m = d.feed(memoryview(guide))
    assert m.type == "refine" and m.fields == {"guide": "mask"}
    assert [(s.name, type(b), b) for s, b in m.buffers] == [("image", bytes, image), ("guide", bytes, guide)]
    assert m.buffer("guide")[1] == guide and d.state is DecoderState.HEADER and d.pending is None


def test_decoder_split_messages_back_to_back():
    frames = []
    for i in range(3):
        img = messages.buffer("image", bytes([i]) * 24, format="rgba8", width=2, height=3)
        frames += encode(messages.select_subject(img, id=f"c{i}"))
    got = codec.decode_all(frames)
    assert [m.id for m in got] == ["c0", "c1", "c2"]
    assert [m.buffers[0][1][0] for m in got] == [0, 1, 2]


def test_stray_binary_frame_is_one_error_then_skipped():
    d = Decoder()
    raises(d, b"xx", "bad_message", None)
    assert d.state is DecoderState.SKIP
    assert d.feed(b"more") is None and d.dropped_frames == 1
    assert d.feed('{"v":2,"type":"status","id":"c2"}').id == "c2"


def test_wrong_size_buffer_drops_the_message_and_recovers():
    d = Decoder()
    d.feed(header("select_subject", buffers=[spec()]))
    e = raises(d, bytes(23), "bad_message")
    assert "expected 24 bytes" in e.message
    assert d.feed(bytes(24)) is None  # the rest of the broken message is dropped
    assert d.feed('{"v":2,"type":"status","id":"c2"}').id == "c2"


def test_text_frame_where_buffer_is_due():
    d = Decoder()
    d.feed(header("refine", buffers=[spec(), spec("guide", "grey8")]))
    d.feed(bytes(24))
    e = raises(d, '{"v":2,"type":"status","id":"c2"}', "bad_message", "c1")
    assert "binary frame 2 of 2" in e.message
    assert d.feed(bytes(6)) is None
    assert d.feed('{"v":2,"type":"status","id":"c3"}').id == "c3"


def test_truncated_stream():
    d = Decoder()
    d.feed(header("select_subject", buffers=[spec()]))
    with pytest.raises(ProtocolError) as info:
        d.close()
    assert info.value.code == "bad_message" and info.value.ref == "c1" and "1 buffer(s)" in info.value.message
    assert d.state is DecoderState.CLOSED
    with pytest.raises(InvalidState):
        d.feed("{}")
    clean = Decoder()
    clean.close()  # nothing pending: no error


def test_limits_are_checked_before_payloads():
    d = Decoder(max_pixels=5, max_frame_bytes=20)
    raises(d, header("select_subject", buffers=[spec()]), "image_too_large")  # 6 pixels
    assert d.feed(bytes(24)) is None  # its payload is dropped unread
    raises(d, header("select_subject", buffers=[spec(fmt="png", w=2, h=2, size=21)]), "frame_too_large")
    d = Decoder(max_text_bytes=40)
    raises(d, header("status", "c1", x="y" * 40), "frame_too_large", None)
    raises(Decoder(max_text_bytes=40), '{"v":2,"type":"status","id":"c1","x":"' + "é" * 10 + '"}', "frame_too_large", None)


def test_raw_size_mismatch_in_spec():
    raises(Decoder(), header("select_subject", buffers=[spec(size=25)]), "bad_message")


@pytest.mark.parametrize(
    "frame, code, ref",
    [
        ("not json", "bad_message", None),
        ("[1, 2]", "bad_message", None),
        ('{"v":2,"type":"status","id":"c1","x":NaN}', "bad_message", None),
        ('{"v":2,"type":"status","id":"c1","id":"c2"}', "bad_message", None),
        ('{"v":2,"type":"status"}', "bad_message", None),
        ('{"v":2,"type":"status","id":""}', "bad_message", None),
        ('{"v":2,"type":"status","id":7}', "bad_message", None),
        ('{"type":"status","id":"c1"}', "bad_message", "c1"),
        ('{"v":1,"type":"status","id":"c1"}', "unsupported_version", "c1"),
        ('{"v":true,"type":"status","id":"c1"}', "unsupported_version", "c1"),
        ('{"v":2,"id":"c1"}', "bad_message", "c1"),
        ('{"v":2,"type":"paint","id":"c1"}', "unknown_type", "c1"),
        ('{"v":2,"type":"result","id":"c1"}', "unknown_type", "c1"),
        ('{"v":2,"type":"status","id":"c1","ref":"c0"}', "bad_message", "c1"),
        ('{"v":2,"type":"status","id":"c1","buffers":{}}', "bad_message", "c1"),
        ('{"v":2,"type":"select_subject","id":"c1","buffers":[{"name":"image","format":"rgba8","width":"2","height":3,"size":24}]}', "bad_message", "c1"),
        ('{"v":2,"type":"select_subject","id":"c1","buffers":[{"name":"image","format":"rgba8","width":2,"height":3,"size":24}],"refine":"slow"}', "bad_parameter", "c1"),
        ('{"v":2,"type":"cancel","id":"c1"}', "bad_parameter", "c1"),
        ('{"v":2,"type":"hello","id":"c1","protocol":3,"client":{"name":"x","version":"1"},"key":"master","nonce":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}', "unsupported_version", "c1"),
        ('{"v":2,"type":"hello","id":"c1","protocol":2,"client":{"name":"x","version":"1"},"token":"t"}', "bad_parameter", "c1"),
        ('{"v":2,"type":"hello","id":"c1","protocol":2,"client":{"name":"x","version":"1"},"key":"master","nonce":"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"}', "bad_parameter", "c1"),
        ('{"v":2,"type":"auth","id":"c1","proof":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}', "bad_message", "c1"),
        ("[" * 100_000 + "]" * 100_000, "bad_message", None),
    ],
)
def test_decoder_rejects_bad_json(frame, code, ref):
    d = Decoder()
    raises(d, frame, code, ref)
    assert d.feed('{"v":2,"type":"status","id":"ok"}').id == "ok"  # usable afterwards


def test_bad_parameter_is_refused_before_payload():
    d = Decoder()
    e = raises(d, header("select_subject", buffers=[spec()], edges={"feather": -2}), "bad_parameter")
    assert e.message == "edges.feather: expected a value in [0, 1000]; got -2"
    assert d.feed(bytes(24)) is None


def test_png_header_is_checked_on_arrival():
    good = png(3, 2)
    d = Decoder()
    d.feed(header("select_subject", buffers=[spec(fmt="png", w=3, h=2, size=len(good))]))
    assert d.feed(good).buffers[0][1] == good
    d.feed(header("select_subject", buffers=[spec(fmt="png", w=2, h=2, size=len(good))]))
    assert "the PNG is 3x2" in raises(d, good, "bad_image").message
    d.feed(header("select_subject", buffers=[spec(fmt="png", w=2, h=2, size=40)]))
    raises(d, b"GIF89a" + bytes(34), "bad_image")


def test_client_role_decodes_results_and_refuses_requests():
    frames = [
        '{"v":2,"type":"result","id":"e4","ref":"c2","buffers":[{"name":"alpha","format":"grey8","width":2,"height":1,"size":2}],'
        '"result":"r1","future_field":true}',
        b"\x00\xff",
    ]
    d = Decoder(role="client")
    assert d.feed(frames[0]) is None
    m = d.feed(frames[1])
    assert (m.type, m.ref, m.fields["future_field"], m.buffers[0][1]) == ("result", "c2", True, b"\x00\xff")
    raises(d, '{"v":2,"type":"status","id":"c1"}', "bad_message", None)  # a status reply needs ref, device, jobs
    raises(d, '{"v":2,"type":"select_subject","id":"c1"}', "unknown_type", None)
    err = d.feed('{"v":2,"type":"error","id":"e1","ref":null,"code":"bad_message","message":"x"}')
    assert err.ref is None and err.fields["code"] == "bad_message"


def test_decoder_argument_checks():
    with pytest.raises(ValueError, match="max_pixels"):
        Decoder(max_pixels=0)
    with pytest.raises(ValueError, match="role"):
        Decoder(role="server")
    with pytest.raises(TypeError):
        Decoder().feed(42)


def test_errors():
    assert ERROR_CODES[0] == "bad_message" and len(ERROR_CODES) == 16
    assert ProtocolError(ErrorCode.BUSY, "x").code == "busy"
    with pytest.raises(ValueError, match="code"):
        ProtocolError("oops", "x")
    with pytest.raises(ValueError, match="code"):
        messages.error("oops", "x")
    exc = ProtocolError("not_found", "no job", "c3")
    assert encode(messages.error_from(exc, id="e1")) == [
        '{"v":2,"type":"error","id":"e1","ref":"c3","code":"not_found","message":"no job"}'
    ]


# ---------------------------------------------------------------- check_request and the schemas agree

IMG = spec()
NONCE = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
VALID_REQUESTS = [
    {"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "gimp", "version": ""}, "key": "master", "nonce": NONCE},
    {"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "ps", "version": "1"}, "key": "t0a-_Z", "nonce": NONCE,
     "accepts": ["place_layer"], "cutout_format": "rgba8"},
    {"v": 2, "type": "auth", "id": "c2", "ref": "e1", "proof": NONCE},
    {"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG]},
    {"v": 2, "type": "select_subject", "id": "a.b:c-d_9", "buffers": [spec(fmt="png", size=10)], "outputs": ["cutout", "coarse"],
     "format": "png", "refine": "none", "edges": {"smooth": 100, "feather": 0, "contrast": 50.5, "shift_edge": -100},
     "decontaminate": 0, "band": 0.5, "priority": "batch", "model": "u2net"},
    {"v": 2.0, "type": "select_subject", "id": "c1", "buffers": [spec(w=2.0)], "band": 0},
    {"v": 2, "type": "trimap", "id": "c1", "buffers": [spec(fmt="grey8")], "band": 0.1, "format": "png"},
    {"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, spec("guide", "grey8")], "guide": "mask", "mode": "fast"},
    {"v": 2, "type": "adjust_edges", "id": "c1", "result": "r1", "edges": {}, "outputs": ["foreground"]},
    {"v": 2, "type": "models.list", "id": "c1"},
    {"v": 2, "type": "status", "id": "c1", "buffers": []},
    {"v": 2, "type": "cancel", "id": "c1", "job": "c0"},
    {"v": 2, "type": "pair", "id": "c1", "code": "000042", "client": {"name": "ps", "version": "1"}},
    {"v": 2, "type": "video_start", "id": "c1"},
    {"v": 2, "type": "video_start", "id": "c1", "buffers": [spec("plate", "jpeg", size=100)], "outputs": ["foreground"],
     "refine": "best", "delay": False, "smoothing": 0.99, "edges": {"shift_edge": -5}, "priority": "batch"},
    {"v": 2, "type": "video_frame", "id": "c2", "buffers": [spec(fmt="png", size=10)], "stream": "c1"},
    {"v": 2, "type": "video_end", "id": "c3", "stream": "c1"},
]
INVALID_REQUESTS = [  # (object, code, the field the message names)
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "gimp"}, "key": "master", "nonce": NONCE}, "bad_parameter", "client.version"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": "2", "client": {"name": "g", "version": "1"}, "key": "master", "nonce": NONCE}, "bad_parameter", "protocol"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "", "nonce": NONCE}, "bad_parameter", "key"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "t.1", "nonce": NONCE}, "bad_parameter", "key"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "master", "nonce": NONCE[:-1]}, "bad_parameter", "nonce"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "master"}, "bad_parameter", "nonce"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "master", "nonce": NONCE,
      "token": "t"}, "bad_parameter", "token"),
    ({"v": 2, "type": "auth", "id": "c2", "ref": "e1", "proof": "G" * 64}, "bad_parameter", "proof"),
    ({"v": 2, "type": "auth", "id": "c2", "ref": "e1"}, "bad_parameter", "proof"),
    ({"v": 2, "type": "select_subject", "id": "c1"}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": []}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG, spec("guide", "grey8")]}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [spec("img")]}, "bad_parameter", "buffers[0].name"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "outputs": []}, "bad_parameter", "outputs"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "outputs": ["alpha", "alpha"]}, "bad_parameter", "outputs[1]"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "outputs": ["mask"]}, "bad_parameter", "outputs[0]"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "outputs": "alpha"}, "bad_parameter", "outputs"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "format": "jpeg"}, "bad_parameter", "format"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "edges": {"feather": 1001}}, "bad_parameter", "edges.feather"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "edges": {"shift_edge": True}}, "bad_parameter", "edges.shift_edge"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "edges": {"soft": 1}}, "bad_parameter", "edges.soft"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "edges": []}, "bad_parameter", "edges"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "decontaminate": 1.01}, "bad_parameter", "decontaminate"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "band": -0.1}, "bad_parameter", "band"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "band": "0.1"}, "bad_parameter", "band"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "priority": "urgent"}, "bad_parameter", "priority"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "model": ""}, "bad_parameter", "model"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "refien": "best"}, "bad_parameter", "refien"),
    ({"v": 2, "type": "trimap", "id": "c1", "buffers": [IMG], "outputs": ["alpha"]}, "bad_parameter", "outputs"),
    ({"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, spec("guide", "rgb8")]}, "bad_parameter", "buffers[1].format"),
    ({"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, spec("guide", "grey8")], "mode": "none"}, "bad_parameter", "mode"),
    ({"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, spec("guide", "grey8")], "outputs": ["trimap"]}, "bad_parameter", "outputs[0]"),
    ({"v": 2, "type": "adjust_edges", "id": "c1"}, "bad_parameter", "result"),
    ({"v": 2, "type": "adjust_edges", "id": "c1", "result": "r 1"}, "bad_parameter", "result"),
    ({"v": 2, "type": "adjust_edges", "id": "c1", "result": "r1", "buffers": [IMG]}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "models.list", "id": "c1", "verbose": True}, "bad_parameter", "verbose"),
    ({"v": 2, "type": "cancel", "id": "c1", "job": 3}, "bad_parameter", "job"),
    ({"v": 2, "type": "status", "id": "c1", "ref": "c0"}, "bad_message", "ref"),
    ({"v": 2, "type": "status", "id": "c" * 65}, "bad_message", "id"),
    ({"v": 2, "type": "status", "id": "c/1"}, "bad_message", "id"),
    ({"v": 1, "type": "status", "id": "c1"}, "unsupported_version", "v"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "12345", "client": {"name": "p", "version": "1"}}, "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "12345\n", "client": {"name": "p", "version": "1"}}, "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "12a456", "client": {"name": "p", "version": "1"}}, "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "\u0661\u0662\u0663\u0664\u0665\u0666", "client": {"name": "p", "version": "1"}},
     "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": 123456, "client": {"name": "p", "version": "1"}}, "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "123456"}, "bad_parameter", "client"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "123456", "client": {"name": "p", "version": "1"}, "token": "t"},
     "bad_parameter", "token"),
    ({"v": 2, "type": "video_start", "id": "c1", "smoothing": 1}, "bad_parameter", "smoothing"),
    ({"v": 2, "type": "video_start", "id": "c1", "smoothing": -0.1}, "bad_parameter", "smoothing"),
    ({"v": 2, "type": "video_start", "id": "c1", "outputs": ["trimap"]}, "bad_parameter", "outputs[0]"),
    ({"v": 2, "type": "video_start", "id": "c1", "delay": 1}, "bad_parameter", "delay"),
    ({"v": 2, "type": "video_start", "id": "c1", "buffers": [IMG]}, "bad_parameter", "buffers[0].name"),
    ({"v": 2, "type": "video_start", "id": "c1", "buffers": [spec("plate"), spec("plate")]}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "video_frame", "id": "c2", "buffers": [IMG]}, "bad_parameter", "stream"),
    ({"v": 2, "type": "video_frame", "id": "c2", "stream": "c1"}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "video_frame", "id": "c2", "buffers": [IMG], "stream": "c1", "index": 0}, "bad_parameter", "index"),
    ({"v": 2, "type": "video_end", "id": "c3"}, "bad_parameter", "stream"),
]


@pytest.fixture(scope="module")
def jsonschema():
    return pytest.importorskip("jsonschema")


def _schema_valid(jsonschema, obj) -> bool:
    validator = jsonschema.Draft202012Validator(schemas.REQUEST_SCHEMAS[obj["type"]])
    return validator.is_valid(obj)


@pytest.mark.parametrize("obj", VALID_REQUESTS, ids=lambda o: o["type"])
def test_valid_requests_agree(jsonschema, obj):
    assert _schema_valid(jsonschema, obj)
    schemas.check_request_object(obj)


@pytest.mark.parametrize("obj, code, field", INVALID_REQUESTS, ids=[f for _, _, f in INVALID_REQUESTS])
def test_invalid_requests_agree(jsonschema, obj, code, field):
    assert not _schema_valid(jsonschema, obj)
    with pytest.raises(ProtocolError) as info:
        schemas.check_request_object(obj)
    assert info.value.code == code
    assert info.value.message.startswith(field + ":"), info.value.message
    assert info.value.ref == (obj["id"] if messages.is_valid_id(obj["id"]) else None)


def test_rules_beyond_the_schema():
    guide = spec("guide", "grey8", w=3)
    with pytest.raises(ProtocolError, match=r"buffers\[1\]: expected the guide to be 2x3"):
        schemas.check_request_object({"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, guide]})
    with pytest.raises(ProtocolError, match=r"buffers\[0\].size"):
        schemas.check_request_object({"v": 2, "type": "select_subject", "id": "c1", "buffers": [spec(size=1)]})


def test_check_request_on_messages():
    image = messages.buffer("image", bytes(24), format="rgba8", width=2, height=3)
    schemas.check_request(messages.select_subject(image, edges={"contrast": 20}))
    with pytest.raises(ProtocolError) as info:
        schemas.check_request(messages.select_subject(image, refine="slow", id="c5"))
    assert (info.value.code, info.value.ref) == ("bad_parameter", "c5")
    with pytest.raises(ProtocolError) as info:
        schemas.check_request(messages.accepted("c1", position=0))
    assert info.value.code == "unknown_type"


def test_video_defaults_and_limits():
    assert schemas.defaults("video_start") == {
        "outputs": ["alpha"], "format": "raw", "refine": "fast",
        "edges": {"smooth": 0, "feather": 0, "contrast": 0, "shift_edge": 0},
        "decontaminate": 1, "band": 0.015, "delay": True, "smoothing": 0.8, "priority": "interactive",
    }
    assert messages.Limits().to_json()["max_pending_frames"] == schemas.DEFAULT_MAX_PENDING_FRAMES == 8
    with pytest.raises(ValueError, match="max_pending_frames"):
        messages.Limits(max_pending_frames=1)  # a stream answers a frame once it has the next
    assert "video_start" in schemas.JOB_TYPES and set(schemas.STREAM_TYPES) <= set(schemas.REQUEST_TYPES)
    with pytest.raises(ValueError, match="index"):
        messages.frame("c1", index=-1, frame="c2", confidence=1.0, buffers=[])


def test_defaults():
    assert schemas.defaults("select_subject") == {
        "outputs": ["alpha"], "format": "raw", "refine": "best",
        "edges": {"smooth": 0, "feather": 0, "contrast": 0, "shift_edge": 0},
        "decontaminate": 1, "band": 0.015, "priority": "interactive",
    }
    m = codec.decode_all([header("adjust_edges", result="r1", edges={"feather": 2})])[0]
    full = schemas.with_defaults(m)
    assert full["edges"] == {"smooth": 0, "feather": 2, "contrast": 0, "shift_edge": 0}
    assert full["result"] == "r1" and full["outputs"] == ["alpha"] and m.fields["edges"] == {"feather": 2}
    with pytest.raises(ValueError, match="type_"):
        schemas.defaults("welcome")


def _walk(schema):
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key in ("properties",):
                for sub in value.values():
                    yield from _walk(sub)
            elif key in ("items", "not", "additionalProperties"):
                yield from _walk(value)
            elif key in ("prefixItems", "anyOf"):
                for sub in value:
                    yield from _walk(sub)


def test_schemas_are_valid_and_use_supported_keywords(jsonschema):
    for schema in [*schemas.REQUEST_SCHEMAS.values(), *schemas.REPLY_SCHEMAS.values(),
                   *schemas.ENGINE_REQUEST_SCHEMAS.values(), *schemas.EDITOR_REPLY_SCHEMAS.values()]:
        jsonschema.Draft202012Validator.check_schema(schema)
        for node in _walk(schema):
            assert set(node) <= schemas.SUPPORTED_KEYWORDS, set(node) - schemas.SUPPORTED_KEYWORDS
    assert set(schemas.JOB_TYPES) <= set(schemas.REQUEST_TYPES)


# ---------------------------------------------------------------- the document


def _doc_examples():
    text = DOC.read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, flags=re.S)]


def test_doc_generated_sections_are_current():
    text = DOC.read_text(encoding="utf-8")
    for name in docgen.SECTIONS:
        assert docgen.generated_block(name) in text, f"run: python -m wire.protocol.docgen {DOC.relative_to(ROOT)}"
    for type_ in [*schemas.REQUEST_SCHEMAS, *schemas.REPLY_SCHEMAS, *schemas.ENGINE_REQUEST_SCHEMAS,
                  *schemas.EDITOR_REPLY_SCHEMAS]:
        assert f"`{type_}`" in text
    for code in ERROR_CODES:
        assert f"| `{code}` |" in text


def test_doc_examples_validate(jsonschema):
    examples = _doc_examples()
    seen = set()
    for obj in examples:
        # Ids say who sent a message: "c…" a client (an editor's answers carry ref "e…"), "e…" the engine.
        from_client = obj["id"].startswith("c")
        if from_client:
            editor_reply = obj["type"] in schemas.EDITOR_REPLY_SCHEMAS and "ref" in obj
            table = schemas.EDITOR_REPLY_SCHEMAS if editor_reply else schemas.REQUEST_SCHEMAS
        else:
            engine_request = obj["type"] in schemas.ENGINE_REQUEST_SCHEMAS and "ref" not in obj
            table = schemas.ENGINE_REQUEST_SCHEMAS if engine_request else schemas.REPLY_SCHEMAS
        errors = list(jsonschema.Draft202012Validator(table[obj["type"]]).iter_errors(obj))
        assert not errors, (obj, [e.message for e in errors])
        (schemas.check_from_client if from_client else schemas.check_from_engine)(obj)
        seen.add(obj["type"])
    assert {"hello", "challenge", "auth", "pair", "paired", "welcome", "select_subject", "result", "adjust_edges", "error",
            "cancelled"} <= seen
    assert {"phone_cut", "phone_paste", "phone_link", "canvas_snapshot", "snapshot", "place_layer", "placed"} <= seen
    assert {"video_start", "video_frame", "video_end", "frame"} <= seen


def test_doc_worked_example_matches_the_codec():
    select = next(o for o in _doc_examples() if o["type"] == "select_subject")
    frames = [json.dumps(select, separators=(",", ":")), bytes(1228800)]
    (m,) = codec.decode_all(frames)
    assert m.buffers[0][0] == BufferSpec("image", "rgba8", 640, 480, 1228800)
    assert encode(m)[0] == frames[0]


# ---------------------------------------------------------------- standard library only, no side effects


def test_protocol_imports_only_the_standard_library():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [] if node.level else [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names and top not in ("asyncio", "socket"), f"{path.name}: {name}"
    code = (
        "import sys, wire.protocol, wire.protocol.docgen;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('asyncio', 'socket', 'numpy', 'core', 'websockets')];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- phone cut & paste


def jpeg(width: int, height: int, *, orientation: int | None = None) -> bytes:
    """A real JPEG file of ``width`` x ``height`` (Pillow), with an EXIF orientation tag when given."""
    import io

    from PIL import Image

    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 30, 20))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_jpeg_size_reads_the_sof_marker_past_exif():
    assert codec.jpeg_size(jpeg(7, 5, orientation=6)) == (7, 5)  # stored size, before the EXIF rotation
    assert codec.jpeg_size(jpeg(300, 2)) == (300, 2)
    for bad, problem in ((b"\x89PNG\r\n\x1a\n" + bytes(30), "no SOI"), (b"\xff\xd8\xff\xe0\x00\x10JFIF", "no JPEG frame header"),
                         (b"\xff\xd8\x00\x00\x00\x00", "no marker")):
        with pytest.raises(ValueError, match=problem):
            codec.jpeg_size(bad)


def test_jpeg_buffers_are_checked_on_arrival():
    good = jpeg(4, 3)
    d = Decoder()
    d.feed(header("phone_cut", buffers=[spec(fmt="jpeg", w=4, h=3, size=len(good))]))
    assert d.feed(good).buffers[0][0].format == "jpeg"
    d.feed(header("phone_cut", buffers=[spec(fmt="jpeg", w=3, h=4, size=len(good))]))
    assert "the JPEG is 4x3; the spec says 3x4" in raises(d, good, "bad_image").message
    d.feed(header("phone_cut", buffers=[spec(fmt="jpeg", w=4, h=3, size=len(good))]))
    raises(d, b"GIF89a" + bytes(len(good) - 6), "bad_image")
    trimap = header("trimap", buffers=[spec(fmt="jpeg", w=4, h=3, size=len(good))])  # not a photo input
    assert raises(d, trimap, "bad_parameter").message.startswith("buffers[0].format:")


def test_phone_requests_and_hello_accepts():
    photo = messages.buffer("photo", jpeg(4, 3), format="jpeg", width=4, height=3)
    cut = messages.phone_cut(messages.buffer("image", jpeg(4, 3), format="jpeg", width=4, height=3), preview_max=512)
    paste = messages.phone_paste("d1", photo, target="softcut-krita")
    hello = messages.hello(key="master", nonce="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", client_name="softcut-gimp", client_version="1", accepts=["place_layer"])
    for request in (cut, paste, messages.phone_link(), hello):
        schemas.check_request(request)
        assert codec.decode_all(encode(request)) == [request]
    assert schemas.with_defaults(codec.decode_all(encode(messages.phone_link()))[0]) == {}
    assert schemas.defaults("phone_paste") == {"name": "Phone cut-out", "priority": "interactive"}
    for obj, field in (
        ({**hello.to_json(), "accepts": ["place_layer", "place_layer"]}, "accepts[1]"),
        ({**hello.to_json(), "accepts": ["select_subject"]}, "accepts[0]"),
        ({"v": 2, "type": "phone_paste", "id": "c1", "buffers": [spec("photo", "png", size=9)]}, "cut"),
        ({"v": 2, "type": "phone_paste", "id": "c1", "cut": "d1", "buffers": [spec("image", "png", size=9)]},
         "buffers[0].name"),
        ({"v": 2, "type": "phone_cut", "id": "c1", "buffers": [spec()], "preview_max": 8}, "preview_max"),
    ):
        with pytest.raises(ProtocolError) as info:
            schemas.check_request_object(obj)
        assert info.value.code == "bad_parameter" and info.value.message.startswith(field + ":"), info.value


def test_pair_takes_six_digits_or_a_url_token():
    client = {"name": "softcut-phone", "version": "1"}
    for code in ("012345", "Zq3-_x" * 4, "a" * 20, "b" * 64):
        schemas.check_request(messages.pair(code, client=client))
    for code in ("a" * 19, "a" * 65, "12345", "abc/def+ghi=jklmnopqrstu", "a" * 20 + "\n"):
        with pytest.raises(ProtocolError) as info:
            schemas.check_request(messages.pair(code, client=client))
        assert info.value.code == "bad_parameter" and info.value.message.startswith("code:")


def test_engine_requests_and_editor_answers_cross_in_both_directions():
    cutout = messages.buffer("cutout", png(3, 2), format="png", width=3, height=2)
    ask = messages.canvas_snapshot(max_side=800)
    place = messages.place_layer("d7", cutout, name="Phone cut-out", x=-4, y=10)
    centred = messages.place_layer("d8", cutout, name="n", x=None, y=None)
    for request in (ask, place, centred):
        assert codec.decode_all(encode(request), role="client") == [request]
    image = messages.buffer("image", bytes(3 * 6), format="rgb8", width=3, height=2)
    answers = [
        messages.snapshot(ask.id, image, document={"width": 30, "height": 20}, view={"x": 5, "y": 6, "width": 300, "height": 200}),
        messages.snapshot(ask.id, image, document={"width": 30, "height": 20}),
        messages.placed(place.id, delivery="d7", ok=True, message="placed"),
        messages.error("not_found", "no document is open", ref=ask.id, id="c9"),
    ]
    for answer in answers:
        assert codec.decode_all(encode(answer)) == [answer]
    with pytest.raises(ValueError, match="both"):
        messages.place_layer("d9", cutout, name="n", x=3, y=None)
    # Each direction refuses the other's messages.
    d = Decoder()
    raises(d, json.dumps(encode(ask)[0] and ask.to_json()), "unknown_type", ask.id)
    d = Decoder(role="client")
    raises(d, encode(answers[2])[0], "unknown_type", place.id)
    # An editor's broken answer is refused by field, before its payload.
    d = Decoder()
    bad = {**answers[0].to_json(), "document": {"width": 0, "height": 20}}
    assert raises(d, json.dumps(bad), "bad_parameter", answers[0].id).message.startswith("document.width:")
    bad = {**answers[0].to_json(), "buffers": [spec("image", "rgba8", w=3, h=2)]}
    assert raises(d, json.dumps(bad), "bad_parameter", answers[0].id).message.startswith("buffers[0].format:")
    d = Decoder(role="client")
    bad = {**place.to_json(), "x": 1.5}
    assert raises(d, json.dumps(bad), "bad_message", place.id).message.startswith("x:")
