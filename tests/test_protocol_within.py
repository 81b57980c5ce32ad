"""A grey buffer sent as one rectangle of a larger image (``within``): what the spec accepts, what the
decoder refuses from a hostile peer, and :func:`whole` giving back the image byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from protocol_support import header, raises, spec
from wire.protocol import messages
from wire.protocol.codec import Decoder, encode
from wire.protocol.messages import BufferSpec, whole


def _placed(full: np.ndarray) -> tuple[BufferSpec, bytes]:
    """``full`` (H, W) uint8 as the box where it is non-zero, placed by ``within`` (numpy, as the engine does)."""
    ys, xs = np.nonzero(full)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    box = np.ascontiguousarray(full[y0:y1, x0:x1])
    return messages.buffer("alpha", box.tobytes(), format="grey8", width=int(x1 - x0), height=int(y1 - y0),
                           within=(int(x0), int(y0), full.shape[1], full.shape[0]))


@pytest.mark.parametrize("box", [(3, 2, 9, 7), (0, 0, 13, 11), (0, 5, 4, 11), (12, 0, 13, 1), (5, 5, 6, 6)])
def test_whole_gives_back_the_image_byte_for_byte(box):
    x0, y0, x1, y1 = box
    rng = np.random.default_rng(sum(box))
    full = np.zeros((11, 13), np.uint8)
    full[y0:y1, x0:x1] = rng.integers(1, 256, (y1 - y0, x1 - x0))
    item = _placed(full)
    assert item[0].within == (x0, y0, 13, 11) and item[0].size == (x1 - x0) * (y1 - y0)
    spec_, data = whole(item)
    assert (spec_.width, spec_.height, spec_.size, spec_.within) == (13, 11, 143, None)
    assert type(data) is bytes and data == full.tobytes()


def test_a_whole_buffer_is_its_payload_as_bytes():
    item = messages.buffer("alpha", bytearray(b"\x01\x02"), format="grey8", width=2, height=1)
    assert whole(item) == (item[0], b"\x01\x02")


def test_within_travels_through_the_codec():
    box = np.arange(1, 7, dtype=np.uint8).reshape(2, 3)
    item = messages.buffer("mask", box.tobytes(), format="grey8", width=3, height=2, within=(4, 1, 8, 5))
    frames = encode(messages.select_object("a" * 64, mask=item, mode="add", id="c1"))
    assert '"within":[4,1,8,5]' in frames[0]
    decoder = Decoder()
    decoder.feed(frames[0])
    got = decoder.feed(frames[1])
    assert got.buffer("mask")[0] == item[0]


@pytest.mark.parametrize("within, problem", [
    ((0, 0, 2, 2), "does not lie inside"),   # the 3x2 payload is wider than the image
    ((1, 0, 3, 2), "does not lie inside"),   # one column past the right edge
    ((0, 1, 3, 2), "does not lie inside"),   # one row past the bottom
])
def test_a_rectangle_outside_its_image_is_refused(within, problem):
    with pytest.raises(ValueError, match=problem):
        BufferSpec("mask", "grey8", 3, 2, 6, within)
    decoder = Decoder()
    raises(decoder, header("select_object", buffers=[{**spec("mask", "grey8", 3, 2), "within": list(within)}],
                           image="a" * 64, mode="add"), "bad_message")


def test_only_a_grey_buffer_can_be_placed():
    with pytest.raises(ValueError, match="only a grey8 buffer"):
        BufferSpec("image", "rgb8", 1, 1, 3, (0, 0, 2, 2))
    raises(Decoder(), header("select_subject", buffers=[{**spec("image", "rgb8", 1, 1), "within": [0, 0, 2, 2]}]),
           "bad_message")


def test_the_pixel_limit_is_the_whole_images():
    """A 1-pixel payload may not claim a 1-gigapixel image: what the engine would allocate is bounded."""
    decoder = Decoder(max_pixels=10_000)
    within = [0, 0, 40_000, 25_000]
    raises(decoder, header("select_object", buffers=[{**spec("mask", "grey8", 1, 1), "within": within}],
                           image="a" * 64, mode="add"), "image_too_large")


@pytest.mark.parametrize("within", [[0, 0, 2], [-1, 0, 2, 2], [0, 0, 0, 2], [0, 0, 2, 2, 2], [0, 0, 2.5, 2], "0,0,2,2"])
def test_a_malformed_within_is_a_bad_message(within):
    raises(Decoder(), header("select_object", buffers=[{**spec("mask", "grey8", 1, 1), "within": within}],
                             image="a" * 64, mode="add"), "bad_message")


def test_the_engine_sends_an_empty_alpha_as_one_pixel_and_a_matte_as_its_box():
    from engine_server import images

    empty = whole(messages.as_buffer(images.encode_cropped("alpha", np.zeros((5, 7), np.uint8))))
    assert empty == (BufferSpec("alpha", "grey8", 7, 5, 35), bytes(35))
    alpha = np.zeros((5, 7), np.uint8)
    alpha[1:3, 2:6] = [[1, 2, 3, 4], [5, 0, 0, 255]]
    out = images.encode_cropped("alpha", alpha)
    assert (out.width, out.height, out.within) == (4, 2, (2, 1, 7, 5))
    assert whole(messages.as_buffer(out))[1] == alpha.tobytes()
