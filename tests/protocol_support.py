"""Helpers of the protocol codec's tests (test_protocol_*.py): request headers and buffer specs
as a client writes them, a valid PNG, the error a decoder must raise, and a hello's nonce."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from wire.protocol import codec, schemas
from wire.protocol.codec import Decoder
from wire.protocol.errors import ProtocolError

NONCE = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


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
