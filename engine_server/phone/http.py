"""Plain HTTP on the engine's port: the phone's web page.

``GET /phone`` and ``/phone/`` → ``engine_server/phone/index.html``; ``/phone/<file>`` →
that file of ``engine_server/phone/`` when :data:`PAGE_FILES` names it; ``/phone/<file>`` of
:data:`SHARED_JS` (``protocol.js``, ``client.js``, ``hmac.js`` and the protocol's parts) →
the JavaScript protocol client in ``wire/js/``, the same files the Photoshop panel carries in
its ``src/``. Anything else is 404. Only requests without a WebSocket upgrade come here.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

import wire

PAGE_DIR = Path(__file__).resolve().parent
WIRE_JS = Path(wire.__file__).resolve().parent / "js"
PAGE_SCRIPTS = ("modules.js", "view.js", "pairing.js", "cut_paste.js", "phone.js")
"""The page's own scripts, in the order ``index.html`` loads them."""
PAGE_FILES = ("index.html", "phone.css", *PAGE_SCRIPTS)
"""Files of ``engine_server/phone/`` served under ``/phone/`` (not its Python modules)."""
SHARED_JS = frozenset(path.name for path in WIRE_JS.glob("*.js"))
"""Files of ``wire/js/`` served under ``/phone/`` (all of them): the protocol module and its
parts, the EngineClient and hmac.js (the handshake's HMAC, since a page served over plain
http has no crypto.subtle); the page's modules.js loads them."""
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".ico": "image/x-icon",
}


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
    if name in SHARED_JS:
        return WIRE_JS / name
    return PAGE_DIR / name if name in PAGE_FILES else None


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
