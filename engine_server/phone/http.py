"""Plain HTTP on the engine's port: the phone's web page.

``GET /phone`` and ``/phone/`` → ``engine_server/phone/index.html``; ``/phone/<file>`` →
that file of ``engine_server/phone/``; ``/phone/protocol.js``, ``/phone/client.js`` and
``/phone/hmac.js`` → the JavaScript protocol client in ``wire/js/``, the same files the
Photoshop panel carries in its ``src/``. Anything else is 404. Only requests without a
WebSocket upgrade come here.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from pathlib import Path

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

import wire

PAGE_DIR = Path(__file__).resolve().parent
WIRE_JS = Path(wire.__file__).resolve().parent / "js"
SHARED_JS = ("protocol.js", "client.js", "hmac.js")
"""Files of ``wire/js/`` served under ``/phone/`` (hmac.js: the handshake's HMAC, since a page
served over plain http has no crypto.subtle)."""
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".ico": "image/x-icon",
}
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
"""A file name the page may ask for (no path, not hidden, short: a longer name is simply 404)."""


def is_upgrade(request: Request) -> bool:
    """Whether the request asks for a WebSocket (else it is a plain HTTP GET)."""
    return any("websocket" in value.lower() for value in request.headers.get_all("Upgrade"))


def resolve(path: str) -> Path | None:
    """The file a request path names, or None (404). Query strings and fragments are ignored."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path in ("/phone", "/phone/"):
        return PAGE_DIR / "index.html"
    if not path.startswith("/phone/"):
        return None
    name = path[len("/phone/"):]
    if not _NAME.fullmatch(name) or name.endswith("."):
        return None
    return (WIRE_JS if name in SHARED_JS else PAGE_DIR) / name


def _response(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers([
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Connection", "close"),
    ])
    return Response(status.value, status.phrase, headers, body)


def respond(request: Request) -> Response:
    """The HTTP response to a plain GET."""
    file = resolve(request.path)
    try:
        body = file.read_bytes() if file is not None and file.is_file() else None
    except OSError:  # unreadable: as good as missing
        body = None
    if body is None:
        return _response(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8")
    return _response(HTTPStatus.OK, body, CONTENT_TYPES.get(file.suffix, "application/octet-stream"))
