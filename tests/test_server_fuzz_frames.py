"""Engine fuzz, frame by frame: binary frames nobody announced, announced buffers too few, short,
long or extra, raw sizes that lie, broken PNG headers; and frames beyond the WebSocket max_size,
refused by their header (close 1009). The driver is fuzz_support.py, the strategies
fuzz_strategies.py."""

from __future__ import annotations

import struct
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_strategies import binary_ops
from fuzz_support import CASES, FUZZ, WAIT_S, Conn, assert_engine_up, engine, run_example
from testing.raw_websocket import Opcode

__all__ = ["engine"]  # this module's engine (a module-scoped fixture)


def test_binary_frames(engine, record_property):
    @FUZZ
    @given(st.lists(binary_ops(), min_size=1, max_size=4))
    def check(ops):
        run_example(engine, "binary", ops)

    check()
    record_property("fuzz_cases", CASES["binary"])


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
def test_frames_beyond_max_size_close_the_connection_with_1009(engine, opcode, record_property):
    """A frame longer than the WebSocket max_size (= max_frame_bytes) is refused by its header."""
    CASES["oversized"] += 1
    conn = Conn(engine)
    try:
        conn.handshake()
        conn.sync()
        length = conn.mirror.max_frame_bytes + 1
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length) + b"\x00\x00\x00\x00"
        conn.ws.sock.sendall(header + b"\x00" * 1024)  # the header alone says too much; the rest never comes
        deadline = time.monotonic() + WAIT_S
        try:
            while conn._receive(deadline):
                pass
        except AssertionError:
            raise
        assert conn.closed_with == 1009, conn.closed_with
    finally:
        try:
            conn.ws.sock.close()
        except OSError:
            pass
    assert_engine_up(engine)
    record_property("fuzz_cases", 1)
