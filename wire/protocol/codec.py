"""Frames ⇄ messages, with no I/O: :func:`encode` and the :class:`Decoder` state machine.

A message is one WebSocket text frame (a UTF-8 JSON object) followed by one binary
frame per entry of its ``buffers`` list, in order. The asyncio server and the
blocking client hand frames to :meth:`Decoder.feed` and send what :func:`encode`
returns; nothing here touches a socket.

Standard library only (editor plug-ins vendor this package).
"""

from __future__ import annotations

import enum
import json
import struct
from typing import Any, Union

from . import schemas
from .errors import InvalidState, ProtocolError
from .envelope import BufferSpec, BytesLike, Message, is_valid_id, payload_size

Frame = Union[str, bytes, bytearray, memoryview]
"""A WebSocket frame: str for text frames, bytes-like for binary frames."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_HEADER_BYTES = 33  # signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC)


# SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}  # RSTn and TEM: no length field


def png_size(data: BytesLike) -> tuple[int, int]:
    """(width, height) of a PNG file, read from its IHDR chunk (no decoding).

    Raises
    ------
    ValueError
        If ``data`` does not start with the PNG signature and an IHDR chunk.
    """
    head = bytes(data[:_PNG_HEADER_BYTES])
    if len(head) < _PNG_HEADER_BYTES or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def jpeg_size(data: BytesLike) -> tuple[int, int]:
    """(width, height) of a JPEG file as stored, read from its SOF marker (no decoding).

    These are the stored dimensions: a viewer that applies the EXIF orientation may
    show the image turned by 90° (width and height swapped).

    Raises
    ------
    ValueError
        If ``data`` is not a JPEG file or ends before its SOF marker.
    """
    view = bytes(data[:2])
    if view != b"\xff\xd8":
        raise ValueError("not a JPEG file (no SOI marker)")
    i, n = 2, payload_size(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise ValueError(f"not a JPEG file (no marker at byte {i})")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _JPEG_STANDALONE:
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # EOI, or SOS before any SOF
            break
        length = (data[i + 2] << 8) | data[i + 3]
        if length < 2:
            raise ValueError(f"not a JPEG file (segment length {length} at byte {i})")
        if marker in _JPEG_SOF:
            if i + 9 > n or length < 7:
                break
            height = (data[i + 5] << 8) | data[i + 6]
            width = (data[i + 7] << 8) | data[i + 8]
            if width == 0 or height == 0:
                raise ValueError(f"the JPEG's frame header gives no size ({width}x{height})")
            return width, height
        i += 2 + length
    raise ValueError("no JPEG frame header (SOF) before the image data")


def encode(message: Message) -> list[Frame]:
    """The frames that carry ``message``: its JSON text frame, then one binary frame per buffer.

    The JSON is compact (no spaces), UTF-8 (non-ASCII characters are not escaped),
    with keys in the order ``v``, ``type``, ``id``, ``ref``, ``buffers``, then the
    fields; each buffer spec's ``size`` is filled in from its payload. Payloads are
    returned as given (no copy), except that memoryviews are cast to bytes ("B").

    Parameters
    ----------
    message : Message
        The message to send.

    Returns
    -------
    list of str and bytes-like
        ``[json_text, payload_0, payload_1, ...]``.

    Raises
    ------
    ValueError
        If the message is malformed (invalid id, a field using an envelope key, NaN
        or infinite numbers, a payload whose length disagrees with its spec).
    TypeError
        If a field is not JSON-serialisable or a payload is not bytes-like.
    """
    obj = message.to_json()
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    frames: list[Frame] = [text]
    for _, data in message.buffers:
        if isinstance(data, memoryview) and (data.format != "B" or data.ndim != 1):
            data = data.cast("B")
        frames.append(data)
    return frames


class DecoderState(enum.Enum):
    """Where a :class:`Decoder` is in the frame stream."""

    HEADER = "header"
    """Expecting a text frame: the JSON of the next message."""
    BUFFERS = "buffers"
    """Expecting the binary frames a message announced."""
    SKIP = "skip"
    """After a rejected message: binary frames are dropped silently up to the next text frame."""
    CLOSED = "closed"
    """:meth:`Decoder.close` was called; no more frames."""


_ROLES = ("engine", "client")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _check_limit(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected an integer > 0; got {value!r}")
    return value


class Decoder:
    """Turns a connection's incoming frames into :class:`Message` objects.

    A small state machine (:class:`DecoderState`, checked on every call): a text frame
    starts a message; if it announces buffers, the next binary frames are its payloads,
    checked one by one against their specs. Limits are checked on the JSON, before any
    payload is accepted. Each broken message raises one :class:`ProtocolError` (which
    the caller sends back as an ``error`` message); the decoder then drops the broken
    message's remaining binary frames up to the next text frame, and stays usable.

    Parameters
    ----------
    role : {"engine", "client"}, optional
        Who is decoding: the engine decodes requests and editors' answers to engine
        requests (``snapshot``, ``placed``, ``error`` with a ref; checked with
        :func:`~wire.protocol.schemas.check_from_client`, so bad fields are
        refused before their payloads arrive); a client decodes replies, events and
        engine requests (``canvas_snapshot``, ``place_layer``).
    max_frame_bytes : int, optional
        Largest binary frame (and announced buffer) accepted.
    max_text_bytes : int, optional
        Largest JSON text frame accepted, in UTF-8 bytes.
    max_pixels : int, optional
        Largest announced width × height of any buffer.

    Raises
    ------
    ValueError
        If a limit is not a positive integer or ``role`` is unknown.
    """

    def __init__(
        self,
        *,
        role: str = "engine",
        max_frame_bytes: int = schemas.DEFAULT_MAX_FRAME_BYTES,
        max_text_bytes: int = schemas.DEFAULT_MAX_TEXT_BYTES,
        max_pixels: int = schemas.DEFAULT_MAX_PIXELS,
    ) -> None:
        if role not in _ROLES:
            raise ValueError(f"role: expected one of {', '.join(_ROLES)}; got {role!r}")
        self.role = role
        self.max_frame_bytes = _check_limit("max_frame_bytes", max_frame_bytes)
        self.max_text_bytes = _check_limit("max_text_bytes", max_text_bytes)
        self.max_pixels = _check_limit("max_pixels", max_pixels)
        self._state = DecoderState.HEADER
        self._header: dict[str, Any] | None = None
        self._specs: list[BufferSpec] = []
        self._payloads: list[bytes] = []
        self._ref: str | None = None
        self.dropped_frames = 0
        """Binary frames dropped silently in the SKIP state (for logs)."""

    # -------------------------------------------------------------- public API

    @property
    def state(self) -> DecoderState:
        return self._state

    @property
    def pending(self) -> str | None:
        """The id of the message whose buffers are awaited (BUFFERS state), else None."""
        return self._header["id"] if self._state is DecoderState.BUFFERS and self._header else None

    def feed(self, frame: Frame) -> Message | None:
        """Take one frame.

        Parameters
        ----------
        frame : str or bytes-like
            A text frame (str) or a binary frame (bytes, bytearray, memoryview).

        Returns
        -------
        Message or None
            A complete message (its payloads attached, in order), or None while its
            buffers are still due (or when a frame of a rejected message was dropped).

        Raises
        ------
        ProtocolError
            For a malformed or refused message (see the codes in docs/protocol.md);
            ``ref`` is the message's id when it could be read. The decoder stays usable.
        InvalidState
            After :meth:`close`.
        TypeError
            If ``frame`` is neither str nor bytes-like.
        """
        state = self._state
        if state is DecoderState.CLOSED:
            raise InvalidState("feed: the decoder is closed")
        if isinstance(frame, str):
            if state is DecoderState.BUFFERS:
                return self._interrupted()
            if state is DecoderState.HEADER or state is DecoderState.SKIP:
                return self._text(frame)
        elif isinstance(frame, (bytes, bytearray, memoryview)):
            if state is DecoderState.BUFFERS:
                return self._binary(frame)
            if state is DecoderState.SKIP:
                self.dropped_frames += 1
                return None
            if state is DecoderState.HEADER:
                self._state = DecoderState.SKIP
                raise ProtocolError("bad_message", "unexpected binary frame: no message announced a buffer")
        else:
            raise TypeError(f"frame: expected str or bytes-like; got {type(frame).__name__}")
        raise InvalidState(f"feed: unexpected decoder state {state!r}")  # pragma: no cover

    def close(self) -> None:
        """End of the stream: no more frames will come.

        Raises
        ------
        ProtocolError
            ``bad_message`` if a message was still waiting for buffers (it was truncated).
        """
        state, ref = self._state, self.pending
        missing = len(self._specs) - len(self._payloads)
        self._reset(DecoderState.CLOSED)
        if state is DecoderState.BUFFERS:
            raise ProtocolError("bad_message", f"stream ended with {missing} buffer(s) of message {ref!r} missing", ref)

    # -------------------------------------------------------------- frames

    def _reset(self, state: DecoderState) -> None:
        self._state = state
        self._header = None
        self._specs = []
        self._payloads = []

    def _fail(self, code: str, message: str, ref: str | None) -> ProtocolError:
        self._reset(DecoderState.SKIP)
        return ProtocolError(code, message, ref)

    def _interrupted(self) -> None:
        ref = self.pending
        index = len(self._payloads)
        raise self._fail(
            "bad_message",
            f"expected binary frame {index + 1} of {len(self._specs)} (buffer {self._specs[index].name!r}) "
            f"of message {ref!r}; got a text frame. Both messages are dropped: send a message's frames together",
            ref,
        )

    def _text(self, frame: str) -> Message | None:
        self._reset(DecoderState.HEADER)
        n = len(frame)
        if n > self.max_text_bytes or (4 * n > self.max_text_bytes and len(frame.encode("utf-8", "surrogatepass")) > self.max_text_bytes):
            raise self._fail("frame_too_large", f"text frame larger than max_text_bytes = {self.max_text_bytes}", None)
        try:
            obj = json.loads(frame, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise self._fail("bad_message", f"text frame is not valid JSON: {exc}", None) from None
        if not isinstance(obj, dict):
            raise self._fail("bad_message", f"expected a JSON object; got {type(obj).__name__}", None)
        return self._start(obj)

    def _older_hint(self, version: Any) -> str:
        """What to do about a peer that speaks an older protocol ("" for anything else)."""
        if isinstance(version, bool) or not isinstance(version, int) or version >= schemas.PROTOCOL_VERSION:
            return ""
        if self.role == "engine":
            return f" ({schemas.UPDATE_HINT})"
        return " (the engine is older than this client: update softcut and restart `softcut serve`)"

    def _start(self, obj: dict[str, Any]) -> Message | None:
        raw_id = obj.get("id")
        if not is_valid_id(raw_id):
            problem = "required field is missing" if "id" not in obj else f"expected 1 to 64 characters from A-Z a-z 0-9 _ . : -; got {raw_id!r}"[:160]
            raise self._fail("bad_message", f"id: {problem}", None)
        if self.role == "engine" or (obj.get("type") in schemas.ENGINE_REQUEST_SCHEMAS and "ref" not in obj):
            ref = raw_id  # errors about a request name the request
        else:
            ref = obj.get("ref") if is_valid_id(obj.get("ref")) else None
        if "v" not in obj:
            raise self._fail("bad_message", "v: required field is missing", ref)
        if obj["v"] != schemas.PROTOCOL_VERSION or isinstance(obj["v"], bool):
            raise self._fail("unsupported_version", f"v: this peer speaks protocol {schemas.PROTOCOL_VERSION}; got {obj['v']!r}"
                             + self._older_hint(obj["v"]), ref)
        type_ = obj.get("type")
        if not isinstance(type_, str):
            raise self._fail("bad_message", f"type: expected a string; got {type_!r}", ref)
        specs = self._read_specs(obj.get("buffers", []), ref)
        try:
            if self.role == "engine":
                schemas.check_from_client(obj)
            else:
                schemas.check_from_engine(obj)
        except ProtocolError as exc:
            raise self._fail(exc.code, exc.message, ref) from None
        self._header = obj
        self._ref = ref
        self._specs = specs
        if not specs:
            return self._finish()
        self._state = DecoderState.BUFFERS
        return None

    def _read_specs(self, value: Any, ref: str | None) -> list[BufferSpec]:
        """The envelope's buffer specs, checked against the limits before any payload."""
        try:
            schemas.validate(value, {"type": "array", "maxItems": schemas.MAX_BUFFERS, "items": schemas.BUFFER_SPEC}, path="buffers")
        except schemas.SchemaViolation as exc:
            raise self._fail("bad_message", str(exc), ref) from None
        specs = []
        for i, obj in enumerate(value):
            width, height = obj["within"][2:] if "within" in obj else (obj["width"], obj["height"])
            if width * height > self.max_pixels:
                raise self._fail(
                    "image_too_large",
                    f"buffers[{i}] ({obj['name']!r}): {width}x{height} pixels; "
                    f"the limit is max_pixels = {self.max_pixels}",
                    ref,
                )
            if obj["size"] > self.max_frame_bytes:
                raise self._fail(
                    "frame_too_large",
                    f"buffers[{i}] ({obj['name']!r}): {obj['size']} bytes; the limit is max_frame_bytes = {self.max_frame_bytes}",
                    ref,
                )
            channels = schemas.RAW_CHANNELS.get(obj["format"])
            if channels is not None and obj["size"] != obj["width"] * obj["height"] * channels:
                raise self._fail(
                    "bad_message",
                    f"buffers[{i}].size: expected width*height*{channels} = {obj['width'] * obj['height'] * channels:.0f} "
                    f"for {obj['format']}; got {obj['size']}",
                    ref,
                )
            try:
                specs.append(BufferSpec.from_json(obj))
            except ValueError as exc:
                raise self._fail("bad_message", f"buffers[{i}] ({obj['name']!r}).{exc}", ref) from None
        return specs

    def _binary(self, frame: BytesLike) -> Message | None:
        header = self._header
        ref = self._ref
        index = len(self._payloads)
        spec = self._specs[index]
        n = payload_size(frame)
        where = f"buffers[{index}] ({spec.name!r}) of message {header['id']!r}"
        if n > self.max_frame_bytes:
            raise self._fail("frame_too_large", f"{where}: frame of {n} bytes; the limit is max_frame_bytes = {self.max_frame_bytes}", ref)
        if n != spec.size:
            raise self._fail("bad_message", f"{where}: expected {spec.size} bytes; got a frame of {n}", ref)
        data = frame if isinstance(frame, bytes) else bytes(frame)
        if spec.format == "png":
            self._check_png(data, spec, where, ref)
        elif spec.format == "jpeg":
            self._check_jpeg(data, spec, where, ref)
        self._payloads.append(data)
        if len(self._payloads) < len(self._specs):
            return None
        return self._finish()

    def _check_png(self, data: bytes, spec: BufferSpec, where: str, ref: str | None) -> None:
        try:
            width, height = png_size(data)
        except ValueError as exc:
            raise self._fail("bad_image", f"{where}: {exc}", ref) from None
        if (width, height) != (spec.width, spec.height):
            raise self._fail(
                "bad_image", f"{where}: the PNG is {width}x{height}; the spec says {spec.width}x{spec.height}", ref
            )

    def _check_jpeg(self, data: bytes, spec: BufferSpec, where: str, ref: str | None) -> None:
        try:
            width, height = jpeg_size(data)
        except ValueError as exc:
            raise self._fail("bad_image", f"{where}: {exc}", ref) from None
        if (width, height) != (spec.width, spec.height):
            raise self._fail(
                "bad_image", f"{where}: the JPEG is {width}x{height}; the spec says {spec.width}x{spec.height}", ref
            )

    def _finish(self) -> Message:
        obj = self._header
        fields = {k: v for k, v in obj.items() if k not in ("v", "type", "id", "ref", "buffers")}
        ref = obj.get("ref")
        message = Message(obj["type"], obj["id"], ref, fields, list(zip(self._specs, self._payloads)))
        self._reset(DecoderState.HEADER)
        return message


def decode_all(frames: list[Frame], *, role: str = "engine") -> list[Message]:
    """Decode a complete list of frames (a convenience for tests and examples).

    Raises
    ------
    ProtocolError
        At the first broken message, or if the frames end inside a message.
    """
    decoder = Decoder(role=role)
    out = [m for m in (decoder.feed(f) for f in frames) if m is not None]
    decoder.close()
    return out
