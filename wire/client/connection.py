"""The WebSocket connection under the client: the vendored python-websockets synchronous client
(``wire/_vendor/websockets``, see its README), opened with what the Softcut protocol needs.

This is the one place a connection is opened, for :class:`~wire.client.api.SoftcutClient`
and for tests that speak to the engine frame by frame.

- No compression: the messages are mostly image buffers (PNG, JPEG or raw pixels).
- No proxy: the engine is on this machine or on the LAN, and a proxy from the environment
  would see the pairing handshake.
- No keep-alive pings: a connection idles between requests for as long as the editor is open,
  and an engine busy with a long job answers a ping late; the engine closes dead peers itself.
- Messages up to :data:`MAX_MESSAGE_BYTES`; the Softcut decoder checks each buffer's size
  against its header.
- Frames masked by the vendored pure-Python code; clients in the engine's environment switch
  to the installed websockets' C masking (``softcut_app.client_masking``).

The connection (:class:`ClientConnection`) sends with ``send(text_or_bytes)``, receives with
``recv(timeout=seconds)``, which raises :class:`TimeoutError` when nothing came and
:class:`ConnectionClosed` once the connection is closed, and is safe to send on from a
second thread while one thread receives.
"""

from __future__ import annotations

from .._vendor.websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from .._vendor.websockets.protocol import State
from .._vendor.websockets.sync.client import ClientConnection, connect

__all__ = ["CONNECTION_ERRORS", "MAX_MESSAGE_BYTES", "ClientConnection", "ConnectionClosed", "InvalidStatus",
           "is_open", "open_websocket"]

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
"""The largest message accepted from the engine; a larger one closes the connection with 1009."""

CONNECTION_ERRORS = (WebSocketException, OSError)
"""What connecting, sending or receiving raises when the engine is gone or refuses (TimeoutError is an OSError)."""

CLOSE_TIMEOUT_S = 5.0
"""How long :meth:`ClientConnection.close` waits for the engine's closing handshake."""


def open_websocket(host: str, port: int, *, timeout: float | None = 10.0, origin: str | None = None,
                   path: str = "/") -> ClientConnection:
    """Connect to ``ws://host:port/path`` and complete the opening handshake within ``timeout`` seconds.

    ``origin`` sets the ``Origin`` header (browsers send one; the engine refuses unknown origins).

    Raises
    ------
    InvalidStatus
        The server answered the upgrade with another status (``exc.response.status_code``,
        ``exc.response.body``).
    TimeoutError
        Connecting or the handshake took longer than ``timeout``.
    OSError, WebSocketException
        The TCP connection could not be made, or the server's answer was not a WebSocket upgrade.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be an int in 1-65535, got {port!r}")
    address = f"[{host}]" if ":" in host else host
    return connect(f"ws://{address}:{port}{path}", open_timeout=timeout, origin=origin, compression=None,
                   proxy=None, user_agent_header=None, ping_interval=None, close_timeout=CLOSE_TIMEOUT_S,
                   max_size=MAX_MESSAGE_BYTES)


def is_open(connection: ClientConnection | None) -> bool:
    """Whether ``connection`` can still carry messages (not closing, not closed)."""
    return connection is not None and connection.state is State.OPEN
