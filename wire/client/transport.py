"""Blocking RFC 6455 WebSocket client over a plain TCP socket, standard library only.

This is the transport under the plug-in client: GIMP's and Krita's bundled
Pythons have no third-party packages, so it needs nothing beyond ``socket``,
``select``, ``hashlib`` and friends. It speaks plain ``ws://`` (the engine
listens on loopback), with no extensions and no subprotocols.

The module has two layers:

* pure functions with no I/O — :func:`encode_frame`, :func:`mask_payload`,
  :func:`parse_frame_header`, :func:`build_handshake_request`,
  :func:`parse_handshake_response`, :func:`accept_key` — tested byte for byte;
* :class:`WebSocketConnection`, a thin blocking layer over a socket.

Errors form one hierarchy rooted at :class:`TransportError`:

* :class:`HandshakeError` — the server did not upgrade (``status_code`` 403 when
  it refuses an Origin, for instance) or its answer broke the RFC;
* :class:`ConnectionClosed` — the connection is closed, with the close ``code``
  and ``reason`` (1006 when the TCP connection dropped without a close frame);
* :class:`TransportTimeout` — a deadline passed; the connection stays usable
  when nothing was half-sent;
* :class:`ProtocolError` — the server broke the framing rules or sent a frame
  larger than ``max_frame_bytes``; the connection is closed with ``code``
  (1002, 1007 or 1009).

Invalid arguments raise ``ValueError`` or ``TypeError`` naming the parameter.

Threading
---------
One thread may block in :meth:`WebSocketConnection.recv` while other threads
send: every frame is written under a send lock, so frames never interleave,
and pongs that ``recv`` sends in answer to pings take the same lock. Only one
thread receives at a time (a second ``recv`` waits for the first). ``close``
may be called from any thread; a ``recv`` blocked in another thread then ends
with :class:`ConnectionClosed`.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import logging
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import NoReturn

logger = logging.getLogger(__name__)

__all__ = [
    "ConnectionClosed",
    "ConnectionState",
    "HandshakeError",
    "Opcode",
    "ProtocolError",
    "TransportError",
    "TransportTimeout",
    "WebSocketConnection",
    "accept_key",
    "build_handshake_request",
    "encode_frame",
    "mask_payload",
    "parse_frame_header",
    "parse_handshake_response",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Payloads up to this size go out as one buffer with their header; larger ones
# are masked and sent in chunks of _MASK_CHUNK bytes (a multiple of 4, so every
# chunk starts on a mask boundary), which bounds the extra memory to one chunk.
_SMALL_PAYLOAD = 64 * 1024
_MASK_CHUNK = 256 * 1024
_RECV_MIN = 64 * 1024
_RECV_MAX = 4 * 1024 * 1024
_MAX_HANDSHAKE_BYTES = 64 * 1024
_MAX_ERROR_BODY = 4096
# How long a failing connection waits for the server's close frame and TCP close.
_FAIL_DRAIN_SECONDS = 1.0

_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)

# Close codes an endpoint may send (RFC 6455 section 7.4): 1005, 1006 and 1015
# are reserved for reporting and never go on the wire.
_SENDABLE_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011})

_RESERVED_REQUEST_HEADERS = frozenset(
    {"host", "upgrade", "connection", "origin", "content-length", "transfer-encoding"}
)


class Opcode(enum.IntEnum):
    """WebSocket frame opcodes (RFC 6455 section 5.2)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


_CONTROL_OPCODES = frozenset({Opcode.CLOSE, Opcode.PING, Opcode.PONG})
_KNOWN_OPCODES = frozenset(int(op) for op in Opcode)


class ConnectionState(enum.Enum):
    """Lifecycle of a :class:`WebSocketConnection`: OPEN → CLOSING → CLOSED.

    CLOSING means this side has sent its close frame and waits for the server's.
    """

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


# --------------------------------------------------------------------------- errors


class TransportError(Exception):
    """Base class of every error the transport raises."""


class HandshakeError(TransportError):
    """The opening handshake failed.

    Attributes
    ----------
    status_code : int or None
        HTTP status of the server's answer (e.g. 403 when it refuses the Origin),
        or None when no HTTP answer could be read.
    reason : str
        HTTP reason phrase, or a description of what was wrong with the answer.
    headers : dict of str to str
        The answer's headers, names lower-cased.
    body : bytes
        The start of the answer's body (at most 4096 bytes), when it had one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        reason: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.reason = reason
        self.headers = dict(headers or {})
        self.body = body


class ConnectionClosed(TransportError):
    """The WebSocket connection is closed.

    Attributes
    ----------
    code : int
        Close code: the server's (1000 normal, 1001 going away, 4000-4999
        application codes...), 1005 when its close frame had no code, 1006 when
        the TCP connection dropped without a close frame.
    reason : str
        Close reason sent by the server, or a description of the drop.
    """

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"connection closed: code {code}" + (f" ({reason})" if reason else ""))
        self.code = code
        self.reason = reason


class TransportTimeout(TransportError):
    """A deadline passed before the operation finished."""


class ProtocolError(TransportError):
    """The server broke the WebSocket framing rules, or sent too large a frame.

    The connection has been closed with :attr:`code` (1002 protocol error, 1007
    invalid UTF-8, 1009 message too big).
    """

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------- pure framing


def accept_key(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value the server must send for ``key``."""
    digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def mask_payload(payload: bytes | bytearray | memoryview, mask: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``mask`` repeated (RFC 6455 section 5.3).

    Works on the whole buffer at once through big-integer XOR, about 0.5-1 GB/s,
    instead of a per-byte Python loop. Masking is its own inverse.

    Parameters
    ----------
    payload : bytes-like
        Data to mask, read as unsigned bytes; its first byte lines up with mask[0].
    mask : bytes
        The 4-byte masking key.

    Returns
    -------
    bytes
        The masked data, same length as ``payload``.
    """
    if len(mask) != 4:
        raise ValueError(f"mask must be 4 bytes, got {len(mask)}")
    n = len(payload)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    value = int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")
    return value.to_bytes(n, "little")


def _numpy():
    """numpy when the host Python has it (a fast path only: nothing requires it)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _masked_chunks(payload: memoryview, mask: bytes) -> Iterator[bytes]:
    """Yield ``payload`` masked with ``mask``, ``_MASK_CHUNK`` bytes at a time.

    With numpy present the XOR runs on 32-bit words (about 8× faster than the
    big-integer path, which is what plug-ins in bare Pythons use).
    """
    np = _numpy()
    if np is not None:
        key = np.frombuffer(mask, dtype=np.uint32)[0]
        for start in range(0, len(payload), _MASK_CHUNK):
            chunk = payload[start : start + _MASK_CHUNK]
            words = len(chunk) // 4 * 4
            out = bytearray(len(chunk))
            view = np.frombuffer(out, dtype=np.uint8)
            np.bitwise_xor(np.frombuffer(chunk[:words], dtype=np.uint32), key, out=view[:words].view(np.uint32))
            if words < len(chunk):
                view[words:] = np.frombuffer(mask_payload(chunk[words:], mask), dtype=np.uint8)
            yield bytes(out)
        return
    full_key = int.from_bytes(mask * (_MASK_CHUNK // 4), "little")
    for start in range(0, len(payload), _MASK_CHUNK):
        chunk = payload[start : start + _MASK_CHUNK]
        if len(chunk) == _MASK_CHUNK:
            yield (int.from_bytes(chunk, "little") ^ full_key).to_bytes(_MASK_CHUNK, "little")
        else:
            yield mask_payload(chunk, mask)


def _frame_header(opcode: int, length: int, mask: bytes | None, *, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if mask is not None else 0
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    return header + mask if mask is not None else header


def encode_frame(
    opcode: int, payload: bytes | bytearray | memoryview, *, mask: bytes | None, fin: bool = True
) -> bytes:
    """Encode one frame.

    Parameters
    ----------
    opcode : int
        One of :class:`Opcode`.
    payload : bytes-like
        Frame payload, unmasked.
    mask : bytes or None
        4-byte masking key (clients must mask every frame), or None for an
        unmasked frame (what servers send; used by tests).
    fin : bool
        Whether this is the last frame of its message.

    Returns
    -------
    bytes
        Header, masking key and (masked) payload.
    """
    if mask is None:
        return _frame_header(opcode, len(payload), None, fin=fin) + bytes(payload)
    return _frame_header(opcode, len(payload), mask, fin=fin) + mask_payload(payload, mask)


def parse_frame_header(data: bytes | bytearray) -> tuple[bool, int, int, int] | None:
    """Parse the header of a server frame at the start of ``data``.

    Parameters
    ----------
    data : bytes-like
        Received bytes, starting at a frame boundary.

    Returns
    -------
    (fin, opcode, payload_length, header_length) or None
        None when ``data`` does not yet hold the whole header.

    Raises
    ------
    ProtocolError
        (code 1002) on reserved bits, an unknown opcode, a masked frame (servers
        must not mask), a fragmented or over-long control frame, or a 64-bit
        length with its top bit set.
    """
    if len(data) < 2:
        return None
    first, second = data[0], data[1]
    fin = bool(first & 0x80)
    opcode = first & 0x0F
    if first & 0x70:
        raise ProtocolError("frame has reserved bits set (no extension was negotiated)", code=1002)
    if opcode not in _KNOWN_OPCODES:
        raise ProtocolError(f"unknown opcode {opcode:#x}", code=1002)
    if second & 0x80:
        raise ProtocolError("server frame is masked", code=1002)
    length = second & 0x7F
    header_length = 2
    if length == 126:
        if len(data) < 4:
            return None
        (length,) = struct.unpack_from("!H", data, 2)
        header_length = 4
    elif length == 127:
        if len(data) < 10:
            return None
        (length,) = struct.unpack_from("!Q", data, 2)
        if length >> 63:
            raise ProtocolError("frame length has its most significant bit set", code=1002)
        header_length = 10
    if opcode in _CONTROL_OPCODES and (not fin or length > 125):
        raise ProtocolError("control frame is fragmented or longer than 125 bytes", code=1002)
    return fin, opcode, length, header_length


def _check_header_text(value: str, parameter: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{parameter} must be a str, got {type(value).__name__}")
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"{parameter} must not contain CR, LF or NUL, got {value!r}")


def build_handshake_request(
    host: str,
    port: int,
    path: str,
    key: str,
    *,
    headers: Mapping[str, str] | None = None,
    origin: str | None = None,
) -> bytes:
    """Build the HTTP/1.1 upgrade request of the opening handshake.

    Parameters
    ----------
    host, port : str, int
        Server address, for the ``Host`` header (IPv6 literals get brackets).
    path : str
        Request target, starting with "/".
    key : str
        Base64 of 16 random bytes (``Sec-WebSocket-Key``).
    headers : mapping of str to str, optional
        Extra headers (e.g. an authorisation token). The handshake's own headers
        (Host, Upgrade, Connection, Origin, Sec-WebSocket-*) cannot be given here.
    origin : str, optional
        Value of the ``Origin`` header.

    Returns
    -------
    bytes
        The request, ending with an empty line.
    """
    if not isinstance(path, str) or not path.startswith("/") or any(c.isspace() for c in path):
        raise ValueError(f"path must start with '/' and contain no whitespace, got {path!r}")
    _check_header_text(path, "path")
    host_header = f"[{host}]" if ":" in host else host
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host_header}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        _check_header_text(origin, "origin")
        lines.append(f"Origin: {origin}")
    for name, value in (headers or {}).items():
        _check_header_text(name, "headers (name)")
        _check_header_text(value, f"headers[{name!r}]")
        lowered = name.lower()
        if not name or any(c in name for c in ":() \t,;=<>@[]\\\"/?{}"):
            raise ValueError(f"headers: {name!r} is not a valid header name")
        if lowered in _RESERVED_REQUEST_HEADERS or lowered.startswith("sec-websocket-"):
            raise ValueError(
                f"headers: {name!r} is set by the handshake itself"
                + (" (use the origin parameter)" if lowered == "origin" else "")
            )
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_handshake_response(head: bytes) -> tuple[int, str, dict[str, str]]:
    """Parse the status line and headers of an HTTP response.

    Parameters
    ----------
    head : bytes
        The response up to, not including, the empty line that ends the headers.

    Returns
    -------
    (status_code, reason, headers)
        Headers with lower-cased names; repeated headers are joined with ", ".

    Raises
    ------
    HandshakeError
        When ``head`` is not an HTTP/1.x response.
    """
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HandshakeError(f"server did not answer with HTTP: {lines[0][:100]!r}")
    status_code = int(parts[1])
    reason = parts[2] if len(parts) == 3 else ""
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HandshakeError(f"malformed header line in the handshake answer: {line[:100]!r}")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return status_code, reason, headers


def _check_upgrade(status_code: int, reason: str, headers: Mapping[str, str], key: str) -> None:
    def fail(what: str) -> HandshakeError:
        return HandshakeError(
            f"invalid handshake answer: {what}", status_code=status_code, reason=reason, headers=headers
        )

    if headers.get("upgrade", "").lower() != "websocket":
        raise fail(f"Upgrade is {headers.get('upgrade')!r}, expected 'websocket'")
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    if "upgrade" not in tokens:
        raise fail(f"Connection is {headers.get('connection')!r}, expected 'Upgrade'")
    if headers.get("sec-websocket-accept") != accept_key(key):
        raise fail("Sec-WebSocket-Accept does not match the key")
    for name in ("sec-websocket-extensions", "sec-websocket-protocol"):
        if name in headers:
            raise fail(f"server chose {name} {headers[name]!r}, which was not offered")


# ------------------------------------------------------------------ socket helpers


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return deadline - time.monotonic()


def _wait(sock: socket.socket, deadline: float | None, *, write: bool) -> None:
    """Block until ``sock`` is readable (or writable); TransportTimeout at ``deadline``."""
    remaining = _remaining(deadline)
    if remaining is not None and remaining <= 0:
        raise TransportTimeout("timed out waiting for the server")
    # selectors, not select.select: select() cannot watch a descriptor numbered 1024 or more, which
    # an editor holding many files (or a client holding many connections) reaches.
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_WRITE if write else selectors.EVENT_READ)
        ready = selector.select(remaining)
    if not ready:
        raise TransportTimeout("timed out waiting for the server")


def _send_all(sock: socket.socket, data: bytes | memoryview, deadline: float | None) -> int:
    """Send all of ``data`` on the non-blocking ``sock``; return bytes sent.

    On TransportTimeout or OSError the exception gets ``bytes_sent`` so the caller
    can tell whether a frame was left half-written.
    """
    view = memoryview(data)
    sent = 0
    while sent < len(view):
        try:
            sent += sock.send(view[sent:], _SEND_FLAGS)
        except (BlockingIOError, InterruptedError):
            try:
                _wait(sock, deadline, write=True)
            except TransportTimeout as exc:
                exc.bytes_sent = sent  # type: ignore[attr-defined]
                raise
        except OSError as exc:
            exc.bytes_sent = sent  # type: ignore[attr-defined]
            raise
    return sent


def _recv_some(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    """Receive up to ``size`` bytes (b"" at end of stream); TransportTimeout at ``deadline``."""
    while True:
        try:
            return sock.recv(size)
        except (BlockingIOError, InterruptedError):
            _wait(sock, deadline, write=False)


def _read_response_head(sock: socket.socket, deadline: float | None) -> tuple[bytes, bytearray]:
    buffer = bytearray()
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            return bytes(buffer[:end]), buffer[end + 4 :]
        if len(buffer) > _MAX_HANDSHAKE_BYTES:
            raise HandshakeError(f"handshake answer headers exceed {_MAX_HANDSHAKE_BYTES} bytes")
        chunk = _recv_some(sock, 4096, deadline)
        if not chunk:
            raise HandshakeError("server closed the connection during the handshake")
        buffer += chunk


def _read_error_body(
    sock: socket.socket, headers: Mapping[str, str], rest: bytearray, deadline: float | None
) -> bytes:
    """Best effort: read the start of a refusal's body for the error message."""
    try:
        wanted = min(int(headers.get("content-length", "0")), _MAX_ERROR_BODY)
    except ValueError:
        wanted = 0
    body = bytearray(rest)
    try:
        while len(body) < wanted:
            chunk = _recv_some(sock, wanted - len(body), deadline)
            if not chunk:
                break
            body += chunk
    except (TransportTimeout, OSError):
        pass  # the status code is what matters; the body only decorates the message
    return bytes(body[:_MAX_ERROR_BODY])


def _as_bytes_view(data: bytes | bytearray | memoryview) -> memoryview:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, bytearray or memoryview, got {type(data).__name__}")
    view = memoryview(data)
    if not view.c_contiguous:
        raise ValueError("data must be a C-contiguous buffer")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def _check_timeout(timeout: float | None, parameter: str = "timeout") -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{parameter} must be a number of seconds or None, got {type(timeout).__name__}")
    if not timeout >= 0:
        raise ValueError(f"{parameter} must be >= 0 seconds or None, got {timeout!r}")


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


# ---------------------------------------------------------------------- connection


class WebSocketConnection:
    """A blocking client WebSocket connection. Create it with :meth:`connect`.

    Examples
    --------
    >>> with WebSocketConnection.connect("127.0.0.1", 8765, path="/v1") as ws:  # doctest: +SKIP
    ...     ws.send_text('{"type": "hello"}')
    ...     reply = ws.recv(timeout=5.0)
    """

    def __init__(
        self, sock: socket.socket, *, buffered: bytes | bytearray = b"", max_frame_bytes: int
    ) -> None:
        """Wrap a socket whose handshake is done; use :meth:`connect` instead."""
        self._sock = sock
        self._max_frame_bytes = max_frame_bytes
        self._buffer = bytearray(buffered)
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._state = ConnectionState.OPEN
        self._state_lock = threading.Lock()
        self._close_code: int | None = None
        self._close_reason = ""
        self._fragments: list[bytes] = []
        self._fragment_opcode: int | None = None
        self._fragment_bytes = 0

    # ---------------------------------------------------------------- opening

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        *,
        path: str = "/",
        timeout: float | None = 10.0,
        headers: Mapping[str, str] | None = None,
        origin: str | None = None,
        max_frame_bytes: int = 256 * 1024 * 1024,
    ) -> WebSocketConnection:
        """Open a TCP connection and perform the WebSocket opening handshake.

        Parameters
        ----------
        host : str
            Server host name or address, e.g. "127.0.0.1".
        port : int
            Server TCP port, 1-65535.
        path : str
            Request path, starting with "/".
        timeout : float or None
            Seconds allowed for connecting plus the handshake; None waits forever.
        headers : mapping of str to str, optional
            Extra request headers (e.g. an authorisation token).
        origin : str, optional
            ``Origin`` header; servers may refuse unknown origins with 403.
        max_frame_bytes : int
            Largest payload accepted in one received frame, and in one reassembled
            message; larger ones close the connection with 1009.

        Returns
        -------
        WebSocketConnection
            An open connection, with TCP_NODELAY set.

        Raises
        ------
        HandshakeError
            The server answered with something other than 101 (``status_code``
            tells which) or its answer did not validate.
        TransportTimeout
            Connecting or the handshake took longer than ``timeout``.
        TransportError
            The TCP connection could not be made (the cause is chained).
        """
        if not isinstance(host, str) or not host:
            raise ValueError(f"host must be a non-empty str, got {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port must be an int in 1-65535, got {port!r}")
        _check_timeout(timeout)
        if isinstance(max_frame_bytes, bool) or not isinstance(max_frame_bytes, int) or max_frame_bytes < 125:
            raise ValueError(f"max_frame_bytes must be an int >= 125, got {max_frame_bytes!r}")
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        request = build_handshake_request(host, port, path, key, headers=headers, origin=origin)
        deadline = _deadline(timeout)

        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError as exc:  # socket.timeout is TimeoutError on 3.10+
            raise TransportTimeout(f"connecting to {host}:{port} timed out after {timeout} s") from exc
        except OSError as exc:
            raise TransportError(f"cannot connect to {host}:{port}: {exc}") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if hasattr(socket, "SO_NOSIGPIPE"):  # macOS has no MSG_NOSIGNAL
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_NOSIGPIPE, 1)
            sock.setblocking(False)
            try:
                _send_all(sock, request, deadline)
                head, rest = _read_response_head(sock, deadline)
            except OSError as exc:
                raise HandshakeError(f"connection failed during the handshake: {exc}") from exc
            status_code, reason, response_headers = parse_handshake_response(head)
            if status_code != 101:
                body = _read_error_body(sock, response_headers, rest, deadline)
                detail = body.decode("utf-8", "replace").strip()
                raise HandshakeError(
                    f"server refused the WebSocket upgrade on {path!r}: {status_code} {reason}"
                    + (f": {detail[:200]}" if detail else ""),
                    status_code=status_code,
                    reason=reason,
                    headers=response_headers,
                    body=body,
                )
            _check_upgrade(status_code, reason, response_headers, key)
        except BaseException:
            sock.close()
            raise
        logger.debug("connected to ws://%s:%d%s", host, port, path)
        return cls(sock, buffered=rest, max_frame_bytes=max_frame_bytes)

    # ------------------------------------------------------------ properties

    @property
    def state(self) -> ConnectionState:
        """Where the connection is in its lifecycle."""
        return self._state

    @property
    def closed(self) -> bool:
        """Whether the connection is fully closed."""
        return self._state is ConnectionState.CLOSED

    @property
    def close_code(self) -> int | None:
        """Close code once closed (the server's, or 1006 after a drop), else None."""
        return self._close_code if self._state is ConnectionState.CLOSED else None

    @property
    def close_reason(self) -> str:
        """Close reason once closed, else ""."""
        return self._close_reason if self._state is ConnectionState.CLOSED else ""

    # ----------------------------------------------------------------- sending

    def send_text(self, text: str, *, timeout: float | None = None) -> None:
        """Send a text message.

        Parameters
        ----------
        text : str
            The message; sent as UTF-8.
        timeout : float or None
            Seconds allowed for the whole send; None blocks until sent.

        Raises
        ------
        ConnectionClosed
            The connection is closing or closed, or dropped during the send.
        TransportTimeout
            The deadline passed. If part of the frame had gone out the connection
            is aborted (closed with 1006), since the stream can no longer be framed.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        _check_timeout(timeout)
        self._send_frame(Opcode.TEXT, memoryview(text.encode("utf-8")), _deadline(timeout))

    def send_binary(self, data: bytes | bytearray | memoryview, *, timeout: float | None = None) -> None:
        """Send a binary message as one frame.

        Parameters
        ----------
        data : bytes, bytearray or memoryview
            The message; a memoryview must be C-contiguous (any item format, sent
            as its raw bytes). Not copied beyond one 256 KiB masked chunk at a time.
        timeout : float or None
            Seconds allowed for the whole send; None blocks until sent.

        Raises
        ------
        ConnectionClosed, TransportTimeout
            As for :meth:`send_text`.
        """
        view = _as_bytes_view(data)
        _check_timeout(timeout)
        self._send_frame(Opcode.BINARY, view, _deadline(timeout))

    def ping(self, payload: bytes = b"", *, timeout: float | None = None) -> None:
        """Send a ping; the server's pong is consumed silently by :meth:`recv`.

        Parameters
        ----------
        payload : bytes
            Application data, at most 125 bytes.
        timeout : float or None
            Seconds allowed for the send.
        """
        view = _as_bytes_view(payload)
        if len(view) > 125:
            raise ValueError(f"payload must be at most 125 bytes, got {len(view)}")
        _check_timeout(timeout)
        self._send_frame(Opcode.PING, view, _deadline(timeout))

    def _send_frame(self, opcode: int, payload: memoryview, deadline: float | None) -> None:
        mask = os.urandom(4)
        header = _frame_header(opcode, len(payload), mask)
        remaining = _remaining(deadline)
        if not self._send_lock.acquire(timeout=-1 if remaining is None else max(remaining, 0)):
            raise TransportTimeout("timed out waiting for another thread's send to finish")
        try:
            if self._state is ConnectionState.CLOSED or (
                self._state is ConnectionState.CLOSING and opcode != Opcode.CLOSE
            ):
                raise self._closed_error()
            sent = 0
            try:
                if len(payload) <= _SMALL_PAYLOAD:
                    sent += _send_all(self._sock, header + mask_payload(payload, mask), deadline)
                else:
                    sent += _send_all(self._sock, header, deadline)
                    for chunk in _masked_chunks(payload, mask):
                        sent += _send_all(self._sock, chunk, deadline)
            except TransportTimeout as exc:
                if sent or getattr(exc, "bytes_sent", 0):
                    self._abort(1006, "send timed out mid-frame")
                    raise TransportTimeout(
                        "send timed out mid-frame; the connection was aborted"
                    ) from exc
                raise
            except (OSError, ValueError) as exc:  # ValueError: closed by another thread
                self._abort(1006, f"connection lost while sending: {exc}")
                raise self._closed_error() from exc
        finally:
            self._send_lock.release()

    # --------------------------------------------------------------- receiving

    def recv(self, timeout: float | None = None) -> str | bytes:
        """Receive the next message.

        Fragmented messages are reassembled, pings are answered with pongs and
        pongs are dropped, all transparently. A timeout leaves any partly
        received frame buffered, so a later ``recv`` carries on where this one
        stopped.

        Parameters
        ----------
        timeout : float or None
            Seconds to wait for a whole message; None blocks until one comes.

        Returns
        -------
        str or bytes
            A text message as str, a binary message as bytes.

        Raises
        ------
        ConnectionClosed
            The server closed the connection (its ``code`` and ``reason``), the TCP
            connection dropped (1006), or the connection was already closed.
        TransportTimeout
            No whole message came within ``timeout``.
        ProtocolError
            The server broke the protocol or exceeded ``max_frame_bytes``; the
            connection has been closed.
        """
        _check_timeout(timeout)
        deadline = _deadline(timeout)
        if not self._recv_lock.acquire(timeout=-1 if timeout is None else timeout):
            raise TransportTimeout("timed out waiting for another thread's recv to finish")
        try:
            while True:
                if self._state is ConnectionState.CLOSED:
                    raise self._closed_error()
                message = self._receive_step(deadline)
                if message is not None:
                    return message
        finally:
            self._recv_lock.release()

    def _receive_step(self, deadline: float | None) -> str | bytes | None:
        """Read and handle one frame; return a message once one is complete."""
        fin, opcode, payload = self._read_frame(deadline)
        if opcode == Opcode.PING:
            if self._state is ConnectionState.OPEN:
                self._send_frame(Opcode.PONG, memoryview(payload), deadline)
            return None
        if opcode == Opcode.PONG:
            logger.debug("pong received (%d bytes)", len(payload))
            return None
        if opcode == Opcode.CLOSE:
            self._on_close_frame(payload, deadline)
            raise self._closed_error()
        if opcode == Opcode.CONTINUATION:
            if self._fragment_opcode is None:
                self._fail(1002, "continuation frame without a message to continue")
        elif self._fragment_opcode is not None:
            self._fail(1002, "new data frame while a fragmented message is unfinished")
        else:
            self._fragment_opcode = opcode
        self._fragment_bytes += len(payload)
        if self._fragment_bytes > self._max_frame_bytes:
            self._fail(1009, f"message exceeds max_frame_bytes={self._max_frame_bytes}")
        self._fragments.append(payload)
        if not fin:
            return None
        message_opcode = self._fragment_opcode
        data = self._fragments[0] if len(self._fragments) == 1 else b"".join(self._fragments)
        self._fragments = []
        self._fragment_opcode = None
        self._fragment_bytes = 0
        if message_opcode == Opcode.TEXT:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                self._fail(1007, "text message is not valid UTF-8")
        return data

    def _read_frame(self, deadline: float | None) -> tuple[bool, int, bytes]:
        buffer = self._buffer
        while True:
            try:
                parsed = parse_frame_header(buffer)
            except ProtocolError as exc:
                self._fail(exc.code, str(exc))
            if parsed is not None:
                break
            self._fill(2 + 8, deadline)
        fin, opcode, length, header_length = parsed
        if length > self._max_frame_bytes:
            self._fail(1009, f"frame of {length} bytes exceeds max_frame_bytes={self._max_frame_bytes}")
        total = header_length + length
        while len(buffer) < total:
            self._fill(total - len(buffer), deadline)
        with memoryview(buffer) as view:
            payload = view[header_length:total].tobytes()
        del buffer[:total]
        return fin, opcode, payload

    def _fill(self, wanted: int, deadline: float | None) -> None:
        size = min(max(wanted, _RECV_MIN), _RECV_MAX)
        try:
            chunk = _recv_some(self._sock, size, deadline)
        except TransportTimeout:
            raise
        except (OSError, ValueError) as exc:  # ValueError: socket closed by another thread
            self._abort(1006, f"connection lost: {exc}")
            raise self._closed_error() from exc
        if not chunk:
            self._abort(1006, "connection dropped without a close frame")
            raise self._closed_error()
        self._buffer += chunk

    def _on_close_frame(self, payload: bytes, deadline: float | None) -> None:
        if len(payload) == 0:
            code, reason = 1005, ""
        elif len(payload) == 1:
            self._fail(1002, "close frame with a 1-byte payload")
        else:
            (code,) = struct.unpack_from("!H", payload)
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                self._fail(1007, "close reason is not valid UTF-8")
        if self._begin_closing(code, reason):
            # Echo the close frame, then close our side (the server has stopped sending).
            if code == 1005:
                echo = b""
            elif code in _SENDABLE_CLOSE_CODES or 3000 <= code < 5000:
                echo = struct.pack("!H", code)
            else:
                echo = struct.pack("!H", 1002)
            try:
                self._send_frame(Opcode.CLOSE, memoryview(echo), deadline)
            except TransportError as exc:
                logger.debug("could not echo the close frame: %s", exc)
        logger.debug("server closed the connection: %d %s", code, reason)
        self._abort(code, reason)

    # ----------------------------------------------------------------- closing

    def close(self, code: int = 1000, reason: str = "", *, timeout: float = 5.0) -> None:
        """Close the connection with the closing handshake. Idempotent.

        Sends a close frame, waits up to ``timeout`` for the server's, then
        closes the socket. If another thread is blocked in :meth:`recv`, that
        thread receives the server's close frame and ends with
        :class:`ConnectionClosed`.

        Parameters
        ----------
        code : int
            Close code: 1000 (normal), 1001 (going away), or 3000-4999.
        reason : str
            Close reason, at most 123 bytes in UTF-8.
        timeout : float
            Seconds to wait for the server's close frame.
        """
        if isinstance(code, bool) or not isinstance(code, int) or not (
            code in _SENDABLE_CLOSE_CODES or 3000 <= code < 5000
        ):
            raise ValueError(f"code must be 1000-1003, 1007-1011 or 3000-4999, got {code!r}")
        if not isinstance(reason, str):
            raise TypeError(f"reason must be a str, got {type(reason).__name__}")
        encoded = reason.encode("utf-8")
        if len(encoded) > 123:
            raise ValueError(f"reason must be at most 123 bytes in UTF-8, got {len(encoded)}")
        _check_timeout(timeout)
        deadline = _deadline(timeout)
        if self._state is ConnectionState.CLOSED:
            return
        if self._begin_closing(code, reason):
            try:
                self._send_frame(Opcode.CLOSE, memoryview(struct.pack("!H", code) + encoded), deadline)
            except TransportError as exc:
                logger.debug("could not send the close frame: %s", exc)
                self._abort(code, reason)
                return
        remaining = _remaining(deadline)
        if self._recv_lock.acquire(timeout=-1 if remaining is None else max(remaining, 0)):
            try:
                self._drain_until_closed(deadline)
            finally:
                self._recv_lock.release()
        else:
            # Another thread is in recv() and the server has not answered: wake it.
            self._shutdown()
            if self._recv_lock.acquire(timeout=1.0):
                self._recv_lock.release()
        self._abort(code, reason)

    def _drain_until_closed(self, deadline: float | None) -> None:
        """Read (and drop) frames until the server's close frame or the deadline."""
        while self._state is not ConnectionState.CLOSED:
            try:
                message = self._receive_step(deadline)
            except TransportError:
                return
            if message is not None:
                logger.debug("dropped a %d-long message received while closing", len(message))

    def _begin_closing(self, code: int, reason: str) -> bool:
        """Move OPEN → CLOSING (recording ``code``); False if already past OPEN."""
        with self._state_lock:
            if self._state is not ConnectionState.OPEN:
                return False
            self._state = ConnectionState.CLOSING
            self._close_code, self._close_reason = code, reason
            return True

    def _fail(self, code: int, message: str) -> NoReturn:
        """Close with ``code`` after a protocol violation, then raise ProtocolError."""
        logger.warning("closing the connection (%d): %s", code, message)
        if self._begin_closing(code, message[:123]):
            deadline = time.monotonic() + _FAIL_DRAIN_SECONDS
            try:
                self._send_frame(Opcode.CLOSE, memoryview(struct.pack("!H", code)), deadline)
                # Read on until the server closes, so that our close frame is not
                # lost to a TCP reset caused by unread data.
                self._sock.shutdown(socket.SHUT_WR)
                while _recv_some(self._sock, _RECV_MAX, deadline):
                    pass
            except (TransportError, OSError):
                pass
        self._abort(code, message[:123])
        raise ProtocolError(message, code=code)

    def _shutdown(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _abort(self, code: int, reason: str) -> None:
        """Mark the connection closed and release the socket (no handshake)."""
        if self._state is ConnectionState.CLOSED:
            return
        if self._close_code is None or self._state is ConnectionState.CLOSING:
            self._close_code, self._close_reason = code, reason
        self._state = ConnectionState.CLOSED
        self._shutdown()
        self._sock.close()
        self._buffer.clear()
        self._fragments = []

    def _closed_error(self) -> ConnectionClosed:
        code = self._close_code if self._close_code is not None else 1006
        return ConnectionClosed(code, self._close_reason)

    # --------------------------------------------------------- context manager

    def __enter__(self) -> WebSocketConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close with 1000, or with 1011 (unexpected condition) when the block raised."""
        self.close(1000 if exc is None else 1011)

    def __repr__(self) -> str:
        return f"<WebSocketConnection {self._state.value}>"
