"""The client's connection to the engine: open and authenticate it (hello, the engine's proof,
auth), send a request and wait for its reply with progress, answer the engine's requests to an
editor while waiting (or in :meth:`Session.poll`), stream a video's frames, cancel.

Standard library only (over :mod:`wire.client.connection`, the vendored python-websockets).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# Relative imports: plug-ins vendor this package (with ``config`` and ``protocol``)
# under a name of their own.
from .. import config
from ..protocol import auth, codec, messages
from ..protocol.errors import ProtocolError
from ..protocol.messages import Buffer, Message
from .connection import CONNECTION_ERRORS, ClientConnection, is_open, open_websocket
from .errors import (
    ClientError,
    EngineError,
    EngineImpostor,
    EngineUnavailable,
    FrameError,
    JobCancelledError,
)
from .results import Result, _named, _result

log = logging.getLogger(__name__)

CLIENT_VERSION = "0.1.0"

Progress = Callable[[float, str], None]
Handler = Callable[[Message], Any]
"""An engine request's handler: returns the answer's fields (buffers under "buffers") or a Message."""

ANSWER_TYPES = {"place_layer": "placed", "canvas_snapshot": "snapshot"}
"""The answer type of each engine request."""


class Session:
    """A blocking, authenticated connection to the engine: the handshake, requests and their replies,
    the engine's own requests to an editor, video streams. :class:`~wire.client.api.SoftcutClient`
    adds a method per request type.

    Parameters
    ----------
    host, port: where the engine listens (default 127.0.0.1:47841).
    token: the credential: the engine's master token, or a paired ``"<id>.<secret>"`` (:meth:`pair`);
        None reads the master token from the user's config folder. It is never sent: the handshake
        is a challenge–response in which the engine proves it holds the key first
        (:mod:`wire.protocol.auth`).
    timeout: seconds to wait for a reply (each request may override it).
    reconnect: reconnect once (and say hello again) when the connection has dropped
        between requests.
    accepts: handlers of engine requests ("place_layer", "canvas_snapshot"), announced in
        hello; accepting place_layer makes this an editor connection.
    cutout_format: "png" or "rgba8", how place_layer's cut-out should come (editors).
    """

    # ── connection ────────────────────────────────────────────────────────────

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
        self.scope: str | None = None
        """The scope of the token :meth:`pair` got ("editor" or "phone"); None otherwise."""
        self.timeout = timeout
        self.name, self.version = name, version
        self.reconnect = reconnect
        self.welcome: dict[str, Any] | None = None
        self._ws: ClientConnection | None = None
        self._decoder: codec.Decoder | None = None
        self._authenticated = False
        self._lock = threading.Lock()
        self._streaming: int | None = None  # the thread whose video_matte holds the connection
        self.last_video: dict[str, Any] | None = None
        """The result fields of the last video_matte stream that ran to its end (``frames``, ``timings``, ``device``)."""

    def connect(self) -> dict[str, Any]:
        """Open the connection and authenticate (hello, challenge, auth); returns the ``welcome`` fields.

        Raises
        ------
        EngineImpostor
            What answers on the port could not prove it holds the key (the connection is closed;
            nothing but the hello, which carries no secret, was sent).
        EngineError
            ``unauthorized``: the engine does not know the key (revoked, or another engine's).
        EngineUnavailable
            No engine answers, or no token to authenticate with.
        """
        if self.token:
            try:
                key, secret = auth.parse_credential(self.token)
            except ValueError as exc:
                raise ClientError(str(exc)) from None
        else:
            try:
                secret = config.read_token()
            except config.TokenFileError as exc:  # the file is there but broken: say so, not "never started"
                raise EngineUnavailable(str(exc)) from exc
            if not secret:
                raise EngineUnavailable(
                    f"no pairing token in {config.token_path()}: start the engine once with `softcut serve`"
                )
            key = auth.MASTER_KEY  # the token file holds the master token, whatever its characters
        self._open()
        return self._hello(key, secret)

    def pair(self, code: str) -> str:
        """Pair with the code ``softcut serve`` prints (for a client that cannot read the token file).

        Opens a connection, trades ``code`` for a scoped token of this client's own (scope
        ``editor``; ``phone`` for a phone link's one-time token), keeps it (:attr:`token`, used by
        later reconnects; :attr:`scope`) and authenticates with it; returns the credential,
        ``"<id>.<secret>"``, to store for later connections.

        Raises
        ------
        EngineError
            ``unauthorized`` for a wrong, expired or already used code (the engine
            closes the connection), ``bad_parameter`` for a code that is not 6 digits.
        EngineImpostor
            As for :meth:`connect`.
        """
        self._refuse_inside_stream("pair")
        with self._lock:
            self._open()
            request = messages.pair(code, client={"name": self.name, "version": self.version})
            reply = self._exchange(request, timeout=min(self.timeout, 30.0))
            if reply.type != "paired":
                self.close()
                raise EngineImpostor(f"the program on {self.host}:{self.port} answered pair with {reply.type}: "
                                     f"it is not the Softcut engine")
            self.token = str(reply.fields["credential"])
            self.scope = str(reply.fields["scope"])
            self._hello(*auth.parse_credential(self.token))
        return self.token

    def _open(self) -> None:
        """A fresh WebSocket connection (closing any previous one) and decoder."""
        self.close()
        try:
            self._ws = open_websocket(self.host, self.port, timeout=min(self.timeout, 10.0))
        except CONNECTION_ERRORS as exc:
            raise EngineUnavailable(
                f"no Softcut engine on {self.host}:{self.port} ({exc}); start it with `softcut serve`"
            ) from exc
        self._decoder = codec.Decoder(role="client", max_frame_bytes=(1 << 31) - 1, max_pixels=(1 << 31) - 1)
        self._authenticated = False  # engine requests are answered only once the engine has proved itself

    def _hello(self, key: str, secret: str) -> dict[str, Any]:
        """The handshake on the open connection: hello (key id and nonce), the engine's challenge (its
        proof checked before anything else is sent), auth (this client's proof), welcome."""
        nonce = auth.new_nonce()
        hello = messages.hello(key=key, nonce=nonce, client_name=self.name, client_version=self.version,
                               accepts=sorted(self.accepts), cutout_format=self.cutout_format)
        timeout = min(self.timeout, 30.0)
        challenge = self._exchange(hello, timeout=timeout)
        engine_nonce = str(challenge.fields.get("nonce"))
        if challenge.type != "challenge" or not auth.proof_matches(
                challenge.fields.get("proof"), auth.engine_proof(secret, nonce, engine_nonce)):
            self.close()
            raise EngineImpostor(
                f"the program on {self.host}:{self.port} could not prove it knows the token: it is not the Softcut "
                f"engine, or the token is not this engine's (nothing secret was sent to it)"
            )
        reply = self._exchange(messages.auth(challenge.id, proof=auth.client_proof(secret, nonce, engine_nonce)),
                               timeout=timeout)
        if reply.type != "welcome":
            self.close()
            raise EngineImpostor(f"the engine on {self.host}:{self.port} answered auth with {reply.type}, not welcome")
        self._authenticated = True
        self.welcome = reply.fields
        return reply.fields

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def __enter__(self) -> Session:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ── requests and the engine's own ─────────────────────────────────────────

    def request(self, message: Message, *, progress: Progress | None = None, timeout: float | None = None) -> Result:
        """Send a request and wait for its ``result`` (or instant reply). To an engine that says it can
        (``crop_alpha`` in ``welcome``'s capabilities), a matte's alpha is asked for as its box and
        Object Selection's mask and previous matte go as theirs (:func:`~wire.protocol.boxes.with_boxes`);
        every result's buffers are given whole, at the image's size."""
        self._refuse_inside_stream(message.type)
        with self._lock:
            self._ensure_connected()
            if messages.CROP_ALPHA in (self.welcome or {}).get("capabilities", ()):
                message = messages.with_boxes(message)  # less to send both ways; the result comes back whole
            reply = self._exchange(message, progress=progress, timeout=timeout)
        return _result(reply)

    def _ensure_connected(self) -> None:
        if not is_open(self._ws):
            if self._ws is not None and not self.reconnect:
                raise EngineUnavailable("the connection to the engine is closed")
            self.connect()

    def _refuse_inside_stream(self, what: str) -> None:
        """A request from inside a video_matte loop would wait for the loop's own lock forever."""
        if self._streaming is not None and self._streaming == threading.get_ident():
            raise ClientError(f"{what}: this connection is busy with a video stream; finish or close the "
                              f"video_matte loop first, or use a second SoftcutClient")

    def cancel(self, job_id: str) -> None:
        """Ask the engine to cancel a job (safe to call from another thread)."""
        if self._ws is None:
            raise EngineUnavailable("not connected")
        self._send_all(messages.cancel(job_id))

    def poll(self, timeout: float = 0.0) -> int:
        """Handle the engine requests that arrive within ``timeout`` seconds; returns how many.

        For editors: call it while idle (from a timer, or a thread with a short timeout).
        Connects first when needed. Returns early after the first request handled.
        """
        self._refuse_inside_stream("poll")
        with self._lock:
            if not is_open(self._ws):
                self.connect()
            deadline = time.monotonic() + timeout
            handled = 0
            while True:
                try:
                    frame = self._ws.recv(timeout=max(0.001, deadline - time.monotonic()))
                except TimeoutError:
                    return handled
                except CONNECTION_ERRORS as exc:
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
        if message.ref is not None or message.type not in ANSWER_TYPES or not self._authenticated:
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
        self._send_all(answer)
        return True

    def _video(self, start: Message, frames: Iterator[Buffer], window: int, timeout: float) -> Iterator[Result]:
        self._refuse_inside_stream("video_matte")
        with self._lock:
            self._ensure_connected()
            self._streaming = threading.get_ident()
            try:
                yield from self._stream(start, frames, window, timeout)
            finally:
                self._streaming = None

    def _stream(self, start: Message, frames: Iterator[Buffer], window: int, timeout: float) -> Iterator[Result]:
        limits = (self.welcome or {}).get("limits") or {}
        ahead = min(window, int(limits.get("max_pending_frames", window)))
        unanswered: dict[str, int] = {}  # video_frame ids → their position in ``frames``
        sent = 0
        exhausted = opened = over = False
        self._send_all(start)
        try:
            while True:
                while opened and not exhausted and len(unanswered) < ahead:
                    try:
                        image = next(frames)
                    except StopIteration:
                        exhausted = True
                        self._send_all(messages.video_end(start.id))
                        break
                    message = messages.video_frame(start.id, _named(image, "image"))
                    self._send_all(message)
                    unanswered[message.id] = sent
                    sent += 1
                reply = self._receive(time.monotonic() + timeout, "video_frame" if opened else "video_start")
                if reply.ref == start.id:
                    over = reply.type in ("result", "error", "cancelled")
                    if reply.type == "accepted":
                        opened = True
                    elif reply.type == "frame":
                        unanswered.pop(str(reply.fields.get("frame")), None)
                        yield _result(reply)
                    elif reply.type == "result":
                        self.last_video = reply.fields
                        return
                    elif reply.type == "error":
                        raise EngineError(str(reply.fields.get("code")), str(reply.fields.get("message")))
                    elif reply.type == "cancelled":
                        raise JobCancelledError(f"video stream {start.id} was cancelled")
                elif reply.ref in unanswered and reply.type == "error":
                    position = unanswered.pop(reply.ref)
                    raise FrameError(str(reply.fields.get("code")), str(reply.fields.get("message")),
                                     position=position, frame_id=reply.ref)
                else:
                    self._handle_engine_request(reply)
        finally:
            if opened and not over:
                self._cancel_stream(start, timeout)

    def _cancel_stream(self, start: Message, timeout: float) -> None:
        """Cancel the stream and read up to its last message (cancelled, or its result or error when
        the cancel came too late), so that the connection is ready for the next request."""
        if not is_open(self._ws):
            return  # the connection is gone, and the engine cancels a gone connection's streams
        try:
            self._send_all(messages.cancel(start.id))
            deadline = time.monotonic() + timeout
            while True:
                reply = self._receive(deadline, "cancel")
                if reply.ref == start.id and reply.type in ("cancelled", "result", "error"):
                    return
                self._handle_engine_request(reply)
        except ClientError as exc:  # the connection is closed: the next request reconnects
            log.warning("could not cancel video stream %s cleanly: %s", start.id, exc)
            self.close()

    # ── plumbing ──────────────────────────────────────────────────────────────

    def _send_all(self, message: Message) -> None:
        """Send ``message``: its text frame, then each of its buffers as a binary frame."""
        for frame in codec.encode(message):
            self._send(frame)

    def _send(self, frame: str | bytes) -> None:
        try:
            self._ws.send(frame)
        except CONNECTION_ERRORS as exc:
            raise EngineUnavailable(f"the connection to the engine dropped ({exc})") from exc

    def _receive(self, deadline: float, what: str) -> Message:
        """The engine's next message (waiting until ``deadline``, a ``time.monotonic()`` value).

        Raises EngineUnavailable (the connection is closed) on a timeout or a dropped connection,
        EngineError for a message that breaks the protocol."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise EngineUnavailable(f"no answer to {what} within the timeout")
            try:
                frame = self._ws.recv(timeout=left)
                reply = self._decoder.feed(frame)
            except ProtocolError as exc:
                raise EngineError(exc.code, exc.message) from exc
            except TimeoutError:
                continue  # the deadline has passed: said above
            except CONNECTION_ERRORS as exc:
                self.close()
                raise EngineUnavailable(f"the connection to the engine dropped ({exc})") from exc
            if reply is not None:
                return reply

    def _exchange(self, message: Message, *, progress: Progress | None = None, timeout: float | None = None) -> Message:
        self._send_all(message)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            reply = self._receive(deadline, message.type)
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
