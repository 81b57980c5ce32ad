"""The protocol codec's decoder, frame by frame (and the error codes), with no server and no sockets."""

from __future__ import annotations

import pytest

from protocol_support import header, png, raises, spec
from wire.protocol import codec, messages
from wire.protocol.codec import Decoder, DecoderState, encode
from wire.protocol.errors import ERROR_CODES, ErrorCode, InvalidState, ProtocolError
from wire.protocol.messages import Message


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
