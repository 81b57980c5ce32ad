"""The blocking Softcut client: connect, hello, requests with progress, results.

Standard library only (over :mod:`engine_server.client.transport` and
:mod:`engine_server.protocol`), so editor plug-ins can vendor the package.

    with SoftcutClient() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", pixels), outputs=["alpha"])
        alpha_bytes = result.buffers["alpha"]

An editor plug-in also answers the engine's own requests (phone cut & paste): it passes
one handler per request type, ``accepts={"place_layer": place, "canvas_snapshot": shoot}``.
Each handler gets the engine's request (a :class:`~engine_server.protocol.messages.Message`)
and returns the answer's fields (with the buffers under ``"buffers"``) or a whole
message; raising :class:`LookupError` answers ``error`` ``not_found``. Requests are
handled while the client waits for its own replies, and by :meth:`SoftcutClient.poll`
(call it from a timer or a thread while idle).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Relative imports: plug-ins vendor this package (with ``config`` and ``protocol``)
# under a name of their own.
from .. import config
from ..protocol import codec, messages
from ..protocol.errors import ProtocolError
from ..protocol.messages import Buffer, BufferSpec, Message
from .transport import TransportError, TransportTimeout, WebSocketConnection

log = logging.getLogger(__name__)

CLIENT_VERSION = "0.1.0"

Progress = Callable[[float, str], None]
Handler = Callable[[Message], Any]
"""An engine request's handler: returns the answer's fields (buffers under "buffers") or a Message."""

ANSWER_TYPES = {"place_layer": "placed", "canvas_snapshot": "snapshot"}
"""The answer type of each engine request."""


class ClientError(Exception):
    """Base of the client's errors."""


class EngineUnavailable(ClientError):
    """No engine answers (not running, wrong port) or the connection dropped."""


class EngineError(ClientError):
    """The engine answered a request with an error; ``code`` is the protocol's stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class JobCancelledError(ClientError):
    """The request's job was cancelled."""


@dataclass
class Result:
    """A finished request: its reply fields, output payloads by name and their specs."""

    fields: dict[str, Any]
    buffers: dict[str, bytes] = field(default_factory=dict)
    specs: dict[str, BufferSpec] = field(default_factory=dict)

    @property
    def result_id(self) -> str | None:
        return self.fields.get("result")


def raw_image(width: int, height: int, layout: str, pixels: bytes, *, name: str = "image") -> Buffer:
    """A raw 8-bit image buffer ("rgba8", "rgb8" or "grey8", row-major, top-down)."""
    return messages.buffer(name, pixels, format=layout, width=width, height=height)


def jpeg_image(data: bytes, *, name: str = "image") -> Buffer:
    """A JPEG file's bytes as an image buffer (its stored size is read from the SOF marker)."""
    try:
        width, height = codec.jpeg_size(data)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return messages.buffer(name, data, format="jpeg", width=width, height=height)


def png_image(data: bytes, *, name: str = "image") -> Buffer:
    """A PNG file's bytes as an image buffer (its size is read from the PNG header)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        raise ValueError(f"{name}: not a PNG file")
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    return messages.buffer(name, data, format="png", width=width, height=height)


class SoftcutClient:
    """A blocking connection to the engine.

    Parameters
    ----------
    host, port: where the engine listens (default 127.0.0.1:47841).
    token: the pairing token; None reads it from the user's config folder.
    timeout: seconds to wait for a reply (each request may override it).
    reconnect: reconnect once (and say hello again) when the connection has dropped
        between requests.
    accepts: handlers of engine requests ("place_layer", "canvas_snapshot"), announced in
        hello; accepting place_layer makes this an editor connection.
    cutout_format: "png" or "rgba8", how place_layer's cut-out should come (editors).
    """

    def __init__(
        self,
        host: str = config.DEFAULT_HOST,
        port: int = config.DEFAULT_PORT,
        *,
        token: str | None = None,
        timeout: float = 120.0,
        name: str = "softcut-python",
        version: str = CLIENT_VERSION,
        reconnect: bool = True,
        accepts: Mapping[str, Handler] | None = None,
        cutout_format: str | None = None,
    ) -> None:
        unknown = set(accepts or {}) - set(ANSWER_TYPES)
        if unknown:
            raise ValueError(f"accepts: the engine sends no request {sorted(unknown)}; known: {sorted(ANSWER_TYPES)}")
        self.accepts = dict(accepts or {})
        self.cutout_format = cutout_format
        self.host, self.port = host, port
        self.token = token
        self.timeout = timeout
        self.name, self.version = name, version
        self.reconnect = reconnect
        self.welcome: dict[str, Any] | None = None
        self._ws: WebSocketConnection | None = None
        self._decoder: codec.Decoder | None = None
        self._lock = threading.Lock()

    # ── connection ────────────────────────────────────────────────────────────

    def connect(self) -> dict[str, Any]:
        """Open the connection and say hello; returns the engine's ``welcome`` fields."""
        token = self.token or config.read_token()
        if not token:
            raise EngineUnavailable(
                f"no pairing token in {config.token_path()}: start the engine once with `softcut serve`"
            )
        self._open()
        return self._hello(token)

    def pair(self, code: str) -> str:
        """Pair with the code ``softcut serve`` prints (for a client that cannot read the token file).

        Opens a connection, trades ``code`` for the token, keeps it (:attr:`token`,
        used by later reconnects) and says hello with it; returns the token.

        Raises
        ------
        EngineError
            ``unauthorized`` for a wrong, expired or already used code (the engine
            closes the connection), ``bad_parameter`` for a code that is not 6 digits.
        """
        with self._lock:
            self._open()
            request = messages.pair(code, client={"name": self.name, "version": self.version})
            reply = self._exchange(request, timeout=min(self.timeout, 30.0))
            self.token = str(reply.fields["token"])
            self._hello(self.token)
        return self.token

    def _open(self) -> None:
        """A fresh WebSocket connection (closing any previous one) and decoder."""
        self.close()
        try:
            self._ws = WebSocketConnection.connect(self.host, self.port, timeout=min(self.timeout, 10.0))
        except (TransportError, OSError) as exc:
            raise EngineUnavailable(
                f"no Softcut engine on {self.host}:{self.port} ({exc}); start it with `softcut serve`"
            ) from exc
        self._decoder = codec.Decoder(role="client", max_frame_bytes=(1 << 31) - 1, max_pixels=(1 << 31) - 1)

    def _hello(self, token: str) -> dict[str, Any]:
        hello = messages.hello(token=token, client_name=self.name, client_version=self.version,
                               accepts=sorted(self.accepts), cutout_format=self.cutout_format)
        reply = self._exchange(hello, timeout=min(self.timeout, 30.0))
        self.welcome = reply.fields
        return reply.fields

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def __enter__(self) -> SoftcutClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ── requests ──────────────────────────────────────────────────────────────

    def request(self, message: Message, *, progress: Progress | None = None, timeout: float | None = None) -> Result:
        """Send a request and wait for its ``result`` (or instant reply)."""
        with self._lock:
            if self._ws is None or self._ws.closed:
                if self._ws is not None and not self.reconnect:
                    raise EngineUnavailable("the connection to the engine is closed")
                self.connect()
            reply = self._exchange(message, progress=progress, timeout=timeout)
        return Result(
            reply.fields,
            {spec.name: bytes(data) for spec, data in reply.buffers},
            {spec.name: spec for spec, _ in reply.buffers},
        )

    def cancel(self, job_id: str) -> None:
        """Ask the engine to cancel a job (safe to call from another thread)."""
        if self._ws is None:
            raise EngineUnavailable("not connected")
        for frame in codec.encode(messages.cancel(job_id)):
            self._send(frame)

    def select_subject(
        self,
        image: Buffer,
        *,
        outputs: Sequence[str] = ("alpha",),
        format: str = "raw",
        refine: str = "best",
        edges: Mapping[str, float] | None = None,
        decontaminate: float = 1.0,
        band: float = 0.015,
        priority: str = "interactive",
        progress: Progress | None = None,
        timeout: float | None = None,
        id: str | None = None,
    ) -> Result:
        """The subject of ``image`` (see :func:`raw_image`, :func:`png_image`)."""
        message = messages.select_subject(
            image, outputs=outputs, format=format, refine=refine, edges=edges,
            decontaminate=decontaminate, band=band, priority=priority, id=id,
        )
        return self.request(message, progress=progress, timeout=timeout)

    def plate_matte(
        self,
        image: Buffer,
        plate: Buffer,
        *,
        outputs: Sequence[str] = ("alpha",),
        format: str = "raw",
        refine: str = "best",
        edges: Mapping[str, float] | None = None,
        decontaminate: float = 1.0,
        band: float = 0.015,
        priority: str = "interactive",
        progress: Progress | None = None,
        timeout: float | None = None,
        id: str | None = None,
    ) -> Result:
        """The subject of ``image`` helped by ``plate``, the same scene without the subject (a
        buffer named ``plate``: e.g. ``raw_image(..., name="plate")``); ``fields["alignment"]``
        says how the plate was aligned. A plate that cannot be aligned raises
        :class:`EngineError` with code ``alignment_failed``."""
        message = messages.plate_matte(
            image, plate, outputs=outputs, format=format, refine=refine, edges=edges,
            decontaminate=decontaminate, band=band, priority=priority, id=id,
        )
        return self.request(message, progress=progress, timeout=timeout)

    def adjust_edges(self, result_id: str, *, edges: Mapping[str, float] | None = None, decontaminate: float = 1.0,
                     outputs: Sequence[str] = ("alpha",), format: str = "raw", timeout: float | None = None) -> Result:
        """New edge controls on an earlier ``select_subject`` result."""
        message = messages.adjust_edges(result_id, edges=edges, decontaminate=decontaminate, outputs=outputs, format=format)
        return self.request(message, timeout=timeout)

    def soft_segments(self, image: Buffer, *, count: int = 5, masks: str = "stacked", format: str = "raw",
                      progress: Progress | None = None, timeout: float | None = None) -> Result:
        """``count`` soft layers of ``image``: ``buffers["segment0"]``… RGBA, largest first (see the
        protocol's soft_segments for ``masks``)."""
        message = messages.soft_segments(image, count=count, masks=masks, format=format)
        return self.request(message, progress=progress, timeout=timeout)

    def trimap(self, image: Buffer, *, band: float = 0.015, format: str = "raw", timeout: float | None = None) -> Result:
        return self.request(messages.trimap(image, band=band, format=format), timeout=timeout)

    def refine(self, image: Buffer, guide: Buffer, *, guide_kind: str = "trimap", mode: str = "best",
               format: str = "raw", progress: Progress | None = None, timeout: float | None = None) -> Result:
        message = messages.refine(image, guide, guide_kind=guide_kind, mode=mode, format=format)
        return self.request(message, progress=progress, timeout=timeout)

    def phone_cut(self, image: Buffer, *, preview_max: int = 1024, progress: Progress | None = None,
                  timeout: float | None = None) -> Result:
        """Cut out a photo's subject (see :func:`jpeg_image`); ``fields["cut"]`` names the kept cut-out,
        ``buffers["preview"]`` is its PNG preview."""
        return self.request(messages.phone_cut(image, preview_max=preview_max), progress=progress, timeout=timeout)

    def phone_paste(self, cut: str, photo: Buffer, *, target: str | None = None, name: str = "Phone cut-out",
                    timeout: float | None = None) -> Result:
        """Paste cut-out ``cut`` where ``photo`` (a buffer named "photo") of an editor's screen points;
        ``fields["status"]`` is placed, placed_at_centre or kept."""
        return self.request(messages.phone_paste(cut, photo, target=target, name=name), timeout=timeout)

    def phone_link(self) -> Result:
        """The phone's pairing URL (``fields["url"]``) and its QR code (``buffers["qr"]``, PNG)."""
        return self.request(messages.phone_link())

    def poll(self, timeout: float = 0.0) -> int:
        """Handle the engine requests that arrive within ``timeout`` seconds; returns how many.

        For editors: call it while idle (from a timer, or a thread with a short timeout).
        Connects first when needed. Returns early after the first request handled.
        """
        with self._lock:
            if self._ws is None or self._ws.closed:
                self.connect()
            deadline = time.monotonic() + timeout
            handled = 0
            while True:
                try:
                    frame = self._ws.recv(timeout=max(0.001, deadline - time.monotonic()))
                except TransportTimeout:
                    return handled
                except TransportError as exc:
                    self.close()
                    raise EngineUnavailable(f"the connection to the engine dropped ({exc})") from exc
                try:
                    message = self._decoder.feed(frame)
                except ProtocolError as exc:
                    log.warning("dropped a broken message from the engine: %s", exc)
                    continue
                if message is not None and self._handle_engine_request(message):
                    handled += 1
                    return handled

    def _handle_engine_request(self, message: Message) -> bool:
        """Answer ``message`` if it is an engine request this client accepts; False otherwise."""
        if message.ref is not None or message.type not in ANSWER_TYPES:
            return False
        handler = self.accepts.get(message.type)
        try:
            if handler is None:
                raise LookupError(f"this client does not handle {message.type}")
            answer = handler(message)
            if not isinstance(answer, Message):
                fields = dict(answer or {})
                buffers = fields.pop("buffers", [])
                answer = Message(ANSWER_TYPES[message.type], messages.new_id("c"), message.id, fields, list(buffers))
        except LookupError as exc:
            answer = messages.error("not_found", str(exc).strip("'\""), ref=message.id, id=messages.new_id("c"))
        except Exception as exc:  # a handler's bug must not break the client's own requests
            log.exception("%s handler failed", message.type)
            answer = messages.error("internal", f"{type(exc).__name__}: {exc}", ref=message.id, id=messages.new_id("c"))
        for frame in codec.encode(answer):
            self._send(frame)
        return True

    def models(self) -> list[dict[str, Any]]:
        return self.request(messages.models_list()).fields.get("models", [])

    def status(self) -> dict[str, Any]:
        return self.request(messages.status()).fields

    # ── plumbing ──────────────────────────────────────────────────────────────

    def _send(self, frame: str | bytes) -> None:
        try:
            if isinstance(frame, str):
                self._ws.send_text(frame)
            else:
                self._ws.send_binary(frame)
        except TransportError as exc:
            raise EngineUnavailable(f"the connection to the engine dropped ({exc})") from exc

    def _exchange(self, message: Message, *, progress: Progress | None = None, timeout: float | None = None) -> Message:
        for frame in codec.encode(message):
            self._send(frame)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise EngineUnavailable(f"no answer to {message.type} within the timeout")
            try:
                frame = self._ws.recv(timeout=left)
                reply = self._decoder.feed(frame)
            except ProtocolError as exc:
                raise EngineError(exc.code, exc.message) from exc
            except TransportError as exc:
                self.close()
                raise EngineUnavailable(f"the connection to the engine dropped ({exc})") from exc
            if reply is None:
                continue
            if reply.ref != message.id:
                self._handle_engine_request(reply)
                continue
            if reply.type == "progress":
                if progress is not None:
                    progress(float(reply.fields.get("fraction", 0.0)), str(reply.fields.get("stage", "")))
            elif reply.type == "accepted":
                continue
            elif reply.type == "error":
                raise EngineError(str(reply.fields.get("code")), str(reply.fields.get("message")))
            elif reply.type == "cancelled":
                raise JobCancelledError(f"job {message.id} was cancelled")
            else:
                return reply
