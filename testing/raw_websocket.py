"""A blocking WebSocket connection for tests that speak to the engine frame by frame.

The shipped client (:mod:`wire.client`) runs python-websockets' threaded client, which reads
the socket from a thread of its own. Tests that misbehave on purpose need the socket to
themselves: half frames, headers that lie, sends that must give up, reads at their own pace.
:class:`RawWebSocket` drives python-websockets' sans-I/O protocol (``ClientProtocol``) over a
plain socket in the caller's thread, so the frames stay RFC 6455 ones and ``sock`` is free to
write anything by hand.
"""

from __future__ import annotations

import socket
import time

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

__all__ = ["ConnectionClosed", "HandshakeError", "Opcode", "RawWebSocket"]


class ConnectionClosed(Exception):
    """The connection is closed; ``code`` is the close code the engine sent (1006: none, the TCP link dropped)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"connection closed: {code} {reason}".rstrip())
        self.code, self.reason = code, reason


class HandshakeError(Exception):
    """The server refused the upgrade: ``status_code`` and ``body`` are its answer."""

    def __init__(self, status_code: int, body: bytes) -> None:
        super().__init__(f"the server refused the WebSocket upgrade: {status_code} "
                         f"{body.decode('utf-8', 'replace')[:200]}")
        self.status_code, self.body = status_code, body


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _left(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


class RawWebSocket:
    """One client connection: ``send_text``, ``send_binary``, ``recv``, ``close``; ``sock`` is its socket."""

    def __init__(self, sock: socket.socket, protocol: ClientProtocol) -> None:
        self.sock, self.protocol = sock, protocol
        self._parts: list[bytes] = []
        self._text = False
        self._pending: list[str | bytes] = []

    @classmethod
    def connect(cls, host: str, port: int, *, origin: str | None = None, timeout: float | None = 10.0,
                max_size: int | None = None) -> RawWebSocket:
        """Connect to ``ws://host:port/`` and complete the opening handshake.

        Raises HandshakeError for a refused upgrade, TimeoutError, OSError."""
        address = f"[{host}]" if ":" in host else host
        protocol = ClientProtocol(parse_uri(f"ws://{address}:{port}/"), origin=origin, max_size=max_size)
        deadline = _deadline(timeout)
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = cls(sock, protocol)
        try:
            protocol.send_request(protocol.connect())
            connection._flush(deadline)
            while protocol.state is State.CONNECTING:
                connection._read(deadline)
            if protocol.handshake_exc is not None:
                if isinstance(protocol.handshake_exc, InvalidStatus):
                    response = protocol.handshake_exc.response
                    raise HandshakeError(response.status_code, bytes(response.body or b""))
                raise protocol.handshake_exc
        except BaseException:
            sock.close()
            raise
        return connection

    # ------------------------------------------------------------ sending

    def send_text(self, text: str, *, timeout: float | None = None) -> None:
        self._send(lambda: self.protocol.send_text(text.encode("utf-8", "surrogatepass")), timeout)

    def send_binary(self, data: bytes | bytearray | memoryview, *, timeout: float | None = None) -> None:
        self._send(lambda: self.protocol.send_binary(bytes(data)), timeout)

    def _send(self, queue_frame, timeout: float | None) -> None:
        if self.protocol.state is not State.OPEN:
            raise self._closed()
        queue_frame()
        self._flush(_deadline(timeout))

    def _flush(self, deadline: float | None) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.settimeout(_left(deadline))
                self.sock.sendall(data)
            else:  # the protocol asks for the write side to close (after a close frame)
                try:
                    self.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    # ------------------------------------------------------------ receiving

    def recv(self, timeout: float | None = None) -> str | bytes:
        """The next whole message (text as str, binary as bytes). Raises ConnectionClosed, TimeoutError."""
        deadline = _deadline(timeout)
        while not self._pending:
            if self.protocol.state is State.CLOSED:
                raise self._closed()
            self._read(deadline)
        return self._pending.pop(0)

    def _read(self, deadline: float | None) -> None:
        """Read once from the socket and take in every event it completes."""
        self.sock.settimeout(_left(deadline))
        try:
            data = self.sock.recv(256 * 1024)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                continue
            if event.opcode in (Opcode.TEXT, Opcode.BINARY):
                self._text, self._parts = event.opcode is Opcode.TEXT, [event.data]
            elif event.opcode is Opcode.CONT:
                self._parts.append(event.data)
            else:
                continue  # ping (answered by the protocol), pong, close
            if event.fin:
                message = b"".join(self._parts)
                self._pending.append(message.decode("utf-8") if self._text else message)
        try:
            self._flush(deadline)  # pongs, the close frame's echo
        except OSError:
            pass

    # ------------------------------------------------------------ closing

    def _closed(self) -> ConnectionClosed:
        return ConnectionClosed(self.protocol.close_code or 1006, self.protocol.close_reason or "")

    def close(self, code: int = 1000, reason: str = "", *, timeout: float = 5.0) -> None:
        """Send a close frame and wait up to ``timeout`` s for the engine's; then close the socket."""
        deadline = _deadline(timeout)
        try:
            if self.protocol.state is State.OPEN:
                self.protocol.send_close(code, reason)
                self._flush(deadline)
            while self.protocol.state is not State.CLOSED:
                self._read(deadline)
        except (OSError, TimeoutError):
            pass
        finally:
            self.sock.close()

    def __enter__(self) -> RawWebSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
