"""The protocol's phone messages (cut, paste, pairing, JPEG buffers) and the engine's requests to
editors with their answers, through the codec, with no server and no sockets."""

from __future__ import annotations

import json

import pytest

from protocol_support import header, png, raises, spec
from wire.protocol import codec, messages, schemas
from wire.protocol.codec import Decoder, encode
from wire.protocol.errors import ProtocolError


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
