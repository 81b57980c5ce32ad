"""The stdlib WebSocket client transport, against a real ``websockets`` server on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus

import pytest
from websockets.asyncio.server import serve

from wire.client.transport import (
    ConnectionClosed,
    ConnectionState,
    HandshakeError,
    Opcode,
    ProtocolError,
    TransportError,
    TransportTimeout,
    WebSocketConnection,
    accept_key,
    build_handshake_request,
    encode_frame,
    mask_payload,
    parse_frame_header,
    parse_handshake_response,
)

REFUSED_ORIGIN = "http://evil.example"
BIG = 48 * 1024 * 1024


# ------------------------------------------------------------------ pure framing


def test_accept_key_matches_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_encode_masked_text_frame_matches_rfc_example() -> None:
    frame = encode_frame(Opcode.TEXT, b"Hello", mask=bytes.fromhex("37fa213d"))
    assert frame == bytes.fromhex("818537fa213d7f9f4d5158")


@pytest.mark.parametrize(
    ("length", "header"),
    [(0, "8280"), (125, "82fd"), (126, "82fe007e"), (65535, "82feffff"), (65536, "82ff0000000000010000")],
)
def test_encode_frame_length_encodings(length: int, header: str) -> None:
    frame = encode_frame(Opcode.BINARY, bytes(length), mask=b"\0\0\0\0")
    assert frame[: len(header) // 2] == bytes.fromhex(header)
    assert frame[len(header) // 2 :] == b"\0\0\0\0" + bytes(length)


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 7, 8, 13, 256 * 1024 + 3])
def test_mask_payload_equals_the_bytewise_definition(length: int) -> None:
    data = os.urandom(length)
    mask = os.urandom(4)
    expected = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    assert mask_payload(data, mask) == expected
    assert mask_payload(memoryview(expected), mask) == data


def test_parse_frame_header_incremental_and_errors() -> None:
    frame = encode_frame(Opcode.BINARY, bytes(70000), mask=None)
    for cut in range(10):
        assert parse_frame_header(frame[:cut]) is None
    assert parse_frame_header(frame[:10]) == (True, Opcode.BINARY, 70000, 10)
    assert parse_frame_header(bytes([0x01, 0x03])) == (False, Opcode.TEXT, 3, 2)
    for bad in (b"\xc2\x00", b"\x83\x00", b"\x82\x80", b"\x09\x00", b"\x89\x7e\x00\x7e"):
        with pytest.raises(ProtocolError) as info:
            parse_frame_header(bad)
        assert info.value.code == 1002


def test_handshake_request_and_response_parsing() -> None:
    request = build_handshake_request(
        "::1", 8080, "/v1?x=1", "a2V5", headers={"Authorization": "Bearer t"}, origin="http://localhost"
    )
    assert request.startswith(b"GET /v1?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\n")
    assert b"\r\nOrigin: http://localhost\r\n" in request
    assert b"\r\nAuthorization: Bearer t\r\n" in request and request.endswith(b"\r\n\r\n")
    with pytest.raises(ValueError, match="headers"):
        build_handshake_request("h", 1, "/", "k", headers={"X": "a\r\nInjected: 1"})
    with pytest.raises(ValueError, match="origin parameter"):
        build_handshake_request("h", 1, "/", "k", headers={"Origin": "x"})
    with pytest.raises(ValueError, match="path"):
        build_handshake_request("h", 1, "no-slash", "k")
    status, reason, headers = parse_handshake_response(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: a\r\nconnection: Upgrade"
    )
    assert (status, reason, headers["connection"]) == (101, "Switching Protocols", "a, Upgrade")
    with pytest.raises(HandshakeError):
        parse_handshake_response(b"SSH-2.0-OpenSSH")


def test_argument_checks_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="port"):
        WebSocketConnection.connect("127.0.0.1", 0)
    with pytest.raises(ValueError, match="max_frame_bytes"):
        WebSocketConnection.connect("127.0.0.1", 1, max_frame_bytes=10)
    with pytest.raises(ValueError, match="timeout"):
        WebSocketConnection.connect("127.0.0.1", 1, timeout=-1)


# ----------------------------------------------------------------- real server


class _Server:
    """A ``websockets`` server on 127.0.0.1 in a background event loop; routes by path."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, object]] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="ws-test-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test server did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with serve(
            self._handler,
            "127.0.0.1",
            0,
            max_size=None,
            compression=None,
            ping_interval=None,
            process_request=self._process_request,
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def stop(self) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()

    @staticmethod
    def _process_request(connection, request):  # type: ignore[no-untyped-def]
        if request.headers.get("Origin") == REFUSED_ORIGIN:
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
        return None

    async def _handler(self, ws) -> None:  # type: ignore[no-untyped-def]
        path = ws.request.path
        try:
            if path == "/echo":
                async for message in ws:
                    await ws.send(message)
            elif path == "/headers":
                headers = ws.request.headers
                await ws.send(json.dumps({"origin": headers.get("Origin"), "token": headers.get("X-Token")}))
                await ws.wait_closed()
            elif path == "/fragments":
                await ws.send(["frag", "mented ", "text"])
                await ws.send([b"\x00" * 70000, b"", b"\x01" * 3])
                await ws.wait_closed()
            elif path == "/ping":
                latency = await asyncio.wait_for(await ws.ping(b"are you there"), 5)
                await ws.send(f"pong after {latency:.3f} s")
                await ws.wait_closed()
            elif path == "/close":
                await ws.close(4001, "server says bye")
            elif path in ("/drop-reset", "/drop-fin"):
                # Header of a 1 MB binary frame, 1000 bytes of it, then a TCP reset or FIN,
                # as when the server process dies mid-message.
                ws.transport.write(struct.pack("!BBQ", 0x82, 127, 1 << 20) + bytes(1000))
                await asyncio.sleep(0.05)
                if path == "/drop-reset":
                    ws.transport.abort()
                else:
                    ws.transport.close()
            elif path == "/bad-utf8":
                ws.transport.write(encode_frame(Opcode.TEXT, b"ok \xff", mask=None))
                await ws.wait_closed()
            elif path == "/masked":
                ws.transport.write(encode_frame(Opcode.TEXT, b"masked", mask=b"abcd"))
                await ws.wait_closed()
            elif path == "/split":
                # One frame written in two halves half a second apart.
                frame = encode_frame(Opcode.BINARY, b"x" * 5000, mask=None)
                ws.transport.write(frame[:2500])
                await asyncio.sleep(0.5)
                ws.transport.write(frame[2500:])
                await ws.wait_closed()
            elif path == "/big":
                await ws.send(bytes(2 * 1024 * 1024))
                await ws.wait_closed()
            elif path == "/silent":
                await ws.wait_closed()
        finally:
            self.events.put((path, ws.close_code))

    def closed_with(self, path: str, timeout: float = 5.0) -> object:
        """Wait for the handler of ``path`` to finish; return the close code it saw."""
        deadline = time.monotonic() + timeout
        while True:
            seen, code = self.events.get(timeout=max(deadline - time.monotonic(), 0.01))
            if seen == path:
                return code


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    srv = _Server()
    yield srv
    srv.stop()


def _connect(server: _Server, path: str, **kwargs: object) -> WebSocketConnection:
    return WebSocketConnection.connect("127.0.0.1", server.port, path=path, timeout=5.0, **kwargs)  # type: ignore[arg-type]


def test_handshake_sets_nodelay_and_sends_headers(server: _Server) -> None:
    with _connect(server, "/headers", origin="http://localhost", headers={"X-Token": "s3cret"}) as ws:
        assert ws.state is ConnectionState.OPEN
        assert ws._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert json.loads(ws.recv(timeout=5)) == {"origin": "http://localhost", "token": "s3cret"}
    assert ws.closed and ws.close_code == 1000
    assert server.closed_with("/headers") == 1000


def test_refused_handshake_raises_handshake_error_with_status(server: _Server) -> None:
    with pytest.raises(HandshakeError) as info:
        _connect(server, "/echo", origin=REFUSED_ORIGIN)
    assert info.value.status_code == 403
    assert info.value.reason == "Forbidden"
    assert b"origin not allowed" in info.value.body
    assert isinstance(info.value, TransportError)


def test_connection_refused_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(TransportError):
        WebSocketConnection.connect("127.0.0.1", port, timeout=2)


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 65537, 300_000])
def test_echo_binary_boundaries(server: _Server, length: int) -> None:
    data = os.urandom(length)
    with _connect(server, "/echo") as ws:
        ws.send_binary(data)
        assert ws.recv(timeout=5) == data


def test_echo_text_and_memoryview(server: _Server) -> None:
    with _connect(server, "/echo") as ws:
        for text in ["", "héllo ✂", "x" * 126, "é" * 40000]:
            ws.send_text(text)
            assert ws.recv(timeout=5) == text
        floats = memoryview(struct.pack("4f", 1, 2, 3, 4)).cast("f")
        ws.send_binary(floats)
        assert ws.recv(timeout=5) == floats.tobytes()
        with pytest.raises(TypeError, match="data"):
            ws.send_binary("not bytes")  # type: ignore[arg-type]


def test_echo_48_mb_binary_quickly(server: _Server) -> None:
    data = os.urandom(BIG)
    with _connect(server, "/echo") as ws:
        start = time.perf_counter()
        ws.send_binary(data)
        sent = time.perf_counter()
        echoed = ws.recv(timeout=30)
        received = time.perf_counter()
        assert echoed == data
    send_s, round_trip_s = sent - start, received - start
    print(f"48 MB: send {send_s:.3f} s ({BIG / send_s / 1e6:.0f} MB/s), round trip {round_trip_s:.3f} s")
    # A per-byte Python masking loop alone takes ~3 s here (measured); sending must beat that.
    assert send_s < 2.0
    assert round_trip_s < 6.0


def test_fragmented_messages_are_reassembled(server: _Server) -> None:
    with _connect(server, "/fragments") as ws:
        assert ws.recv(timeout=5) == "fragmented text"
        assert ws.recv(timeout=5) == b"\x00" * 70000 + b"\x01" * 3


def test_server_ping_is_answered(server: _Server) -> None:
    with _connect(server, "/ping") as ws:
        assert ws.recv(timeout=5).startswith("pong after")


def test_client_ping_pong_is_consumed(server: _Server) -> None:
    with _connect(server, "/echo") as ws:
        ws.ping(b"hi")
        ws.send_text("after ping")
        assert ws.recv(timeout=5) == "after ping"
        with pytest.raises(ValueError, match="payload"):
            ws.ping(bytes(126))


def test_server_close_raises_connection_closed_with_code(server: _Server) -> None:
    ws = _connect(server, "/close")
    with pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=5)
    assert (info.value.code, info.value.reason) == (4001, "server says bye")
    assert ws.closed and ws.close_code == 4001
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=1)
    with pytest.raises(ConnectionClosed):
        ws.send_text("too late")
    ws.close()  # idempotent
    assert server.closed_with("/close") == 4001  # our echo carried the same code


def test_client_close_handshake_and_idempotence(server: _Server) -> None:
    ws = _connect(server, "/echo")
    ws.close(4000, "done here")
    ws.close(4000, "done here")
    assert ws.closed and ws.close_code == 4000
    assert server.closed_with("/echo") == 4000
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=1)
    with pytest.raises(ValueError, match="code"):
        ws.close(1006)


@pytest.mark.parametrize("path", ["/drop-reset", "/drop-fin"])
def test_dropped_connection_mid_frame_raises_1006(server: _Server, path: str) -> None:
    with _connect(server, path) as ws:
        start = time.monotonic()
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=3)
        assert info.value.code == 1006
        assert time.monotonic() - start < 3
        assert ws.closed


def test_recv_timeout_then_resume_a_half_received_frame(server: _Server) -> None:
    with _connect(server, "/split") as ws:
        start = time.monotonic()
        with pytest.raises(TransportTimeout):
            ws.recv(timeout=0.2)
        assert 0.15 < time.monotonic() - start < 1.0
        assert ws.state is ConnectionState.OPEN
        assert ws.recv(timeout=5) == b"x" * 5000


def test_recv_timeout_on_a_silent_server(server: _Server) -> None:
    with _connect(server, "/silent") as ws:
        start = time.monotonic()
        with pytest.raises(TransportTimeout):
            ws.recv(timeout=0.1)
        assert time.monotonic() - start < 1.0
        ws.ping()  # still usable
        with pytest.raises(TransportTimeout):
            ws.recv(timeout=0)


def test_oversized_frame_closes_with_1009(server: _Server) -> None:
    ws = _connect(server, "/big", max_frame_bytes=1024 * 1024)
    with pytest.raises(ProtocolError) as info:
        ws.recv(timeout=5)
    assert info.value.code == 1009
    assert ws.closed and ws.close_code == 1009
    assert server.closed_with("/big") == 1009
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=1)
    assert closed.value.code == 1009


def test_send_from_one_thread_while_another_receives(server: _Server) -> None:
    received: list[object] = []
    with _connect(server, "/echo") as ws:

        def reader() -> None:
            try:
                while True:
                    received.append(ws.recv(timeout=10))
            except ConnectionClosed as exc:
                received.append(exc)

        thread = threading.Thread(target=reader)
        thread.start()
        payloads = [os.urandom(n) for n in (10, 70000, 3, 1 << 20)] * 5

        def writer(offset: int) -> None:
            for p in payloads[offset::2]:
                ws.send_binary(p)

        writers = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
        for w in writers:
            w.start()
        for w in writers:
            w.join(10)
        deadline = time.monotonic() + 10
        while len(received) < len(payloads) and time.monotonic() < deadline:
            time.sleep(0.01)
        ws.close()  # wakes the reader with ConnectionClosed
        thread.join(5)
    assert not thread.is_alive()
    assert sorted(received[:-1]) == sorted(payloads)  # type: ignore[type-var]
    assert isinstance(received[-1], ConnectionClosed) and received[-1].code == 1000


@pytest.mark.parametrize(("path", "code"), [("/bad-utf8", 1007), ("/masked", 1002)])
def test_protocol_violations_close_with_the_right_code(server: _Server, path: str, code: int) -> None:
    ws = _connect(server, path)
    with pytest.raises(ProtocolError) as info:
        ws.recv(timeout=5)
    assert info.value.code == code and ws.close_code == code
    assert server.closed_with(path) == code


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 262_143, 262_144, 262_149, 700_001])
def test_masking_paths_agree_with_and_without_numpy(size, monkeypatch):
    """The numpy fast path and the big-integer path (bare Pythons) give the same bytes."""
    from wire.client import transport

    payload, key = os.urandom(size), os.urandom(4)
    fast = b"".join(transport._masked_chunks(memoryview(payload), key))
    monkeypatch.setattr(transport, "_numpy", lambda: None)
    plain = b"".join(transport._masked_chunks(memoryview(payload), key))
    assert fast == plain == transport.mask_payload(payload, key)
