"""Protocol messages: the :class:`Message` envelope, buffer specs, and constructors.

Constructors for the client's requests (:func:`hello`, :func:`auth`, :func:`pair`, :func:`select_subject`, ...,
:func:`video_start`, :func:`video_frame`, :func:`video_end`) and the engine's replies
(:func:`challenge`, :func:`welcome`, :func:`paired`, :func:`accepted`, :func:`progress`, :func:`result`,
:func:`frame`, :func:`error`, :func:`cancelled`, :func:`reply`). They build
messages; :func:`wire.protocol.codec.encode` turns them into frames.

Standard library only (editor plug-ins vendor this package).
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from .errors import ERROR_CODES
from .schemas import (
    BUFFER_FORMATS,
    DEFAULT_LAYER_NAME,
    DEFAULT_PREVIEW_MAX,
    DEFAULT_SEGMENTS,
    DEFAULT_SMOOTHING,
    DEFAULT_VIDEO_REFINE,
    DEFAULT_SNAPSHOT_MAX_SIDE,
    DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_PENDING_FRAMES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_QUEUED_PER_CLIENT,
    DEFAULT_MAX_TEXT_BYTES,
    ID_CHARACTERS,
    ID_MAX_LENGTH,
    PROTOCOL_VERSION,
    RAW_CHANNELS,
    REQUEST_TYPES,
)

ENVELOPE_KEYS = frozenset({"v", "type", "id", "ref", "buffers"})
"""Keys of the envelope; a message's ``fields`` may not use them."""

_ID_RE = re.compile(f"[{ID_CHARACTERS}]{{1,{ID_MAX_LENGTH}}}")

BytesLike = Union[bytes, bytearray, memoryview]


def is_valid_id(value: object) -> bool:
    """Whether ``value`` is a valid message id (1–64 characters from A–Z a–z 0–9 _ . : -)."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def new_id(prefix: str = "m") -> str:
    """A random message id, ``prefix`` + 16 hex digits (unique without coordination).

    Raises
    ------
    ValueError
        If the id would not be valid (``prefix`` too long or with other characters).
    """
    out = f"{prefix}{secrets.token_hex(8)}"
    if not is_valid_id(out):
        raise ValueError(f"prefix: expected up to {ID_MAX_LENGTH - 16} characters from {ID_CHARACTERS}; got {prefix!r}")
    return out


class IdGenerator:
    """Sequential message ids for one sender: ``c1``, ``c2``, ... (deterministic, for logs and tests).

    Parameters
    ----------
    prefix : str, optional
        Prepended to the counter.
    """

    def __init__(self, prefix: str = "c") -> None:
        if not is_valid_id(prefix + "0"):
            raise ValueError(f"prefix: expected characters from {ID_CHARACTERS}; got {prefix!r}")
        self._prefix = prefix
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter)}"


@dataclass(frozen=True)
class BufferSpec:
    """The description of one binary payload.

    Parameters
    ----------
    name : str
        What the payload is (``image``, ``guide``, or an output name such as ``alpha``).
    format : str
        ``rgba8``, ``rgb8``, ``grey8`` (raw 8-bit pixels, row-major, top-down, channels
        interleaved; RGBA is straight, not premultiplied), ``png`` or ``jpeg``.
    width, height : int
        Pixel size (> 0); for ``png`` the size the PNG's header must state, for ``jpeg``
        the stored size its SOF marker states (before any EXIF rotation).
    size : int or None, optional
        Payload bytes. None: filled in from the payload by ``encode``. For raw formats
        it is ``width * height * channels``.

    Raises
    ------
    ValueError
        If a field is out of range or a raw size does not match the pixel size.
    """

    name: str
    format: str
    width: int
    height: int
    size: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 1 <= len(self.name) <= 128:
            raise ValueError(f"name: expected a string of 1 to 128 characters; got {self.name!r}")
        if self.format not in BUFFER_FORMATS:
            raise ValueError(f"format: expected one of {', '.join(BUFFER_FORMATS)}; got {self.format!r}")
        for key in ("width", "height"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{key}: expected an integer > 0; got {value!r}")
        if self.size is not None:
            if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 1:
                raise ValueError(f"size: expected an integer > 0; got {self.size!r}")
            raw = self.raw_size
            if raw is not None and self.size != raw:
                raise ValueError(f"size: expected {self.width}x{self.height}x{self.channels} = {raw} for {self.format}; got {self.size}")

    @property
    def channels(self) -> int | None:
        """Bytes per pixel of a raw format; None for ``png``."""
        return RAW_CHANNELS.get(self.format)

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def raw_size(self) -> int | None:
        """``width * height * channels`` for raw formats; None for ``png``."""
        channels = self.channels
        return None if channels is None else self.width * self.height * channels

    def to_json(self) -> dict[str, Any]:
        """The spec as it appears in a message's ``buffers`` (``size`` must be known)."""
        if self.size is None:
            raise ValueError(f"size: unknown for buffer {self.name!r}; attach the payload or give the size")
        return {"name": self.name, "format": self.format, "width": self.width, "height": self.height, "size": self.size}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> BufferSpec:
        """A spec from its JSON form (already checked against the schema)."""
        return cls(str(obj["name"]), str(obj["format"]), int(obj["width"]), int(obj["height"]), int(obj["size"]))


Buffer = tuple[BufferSpec, BytesLike]
"""A buffer spec and its payload."""


@dataclass(frozen=True)
class Message:
    """One protocol message: the envelope, type-specific fields and attached binary payloads.

    Parameters
    ----------
    type : str
        The message type, e.g. ``select_subject`` or ``result``.
    id : str
        Unique per sender (1–64 characters from A–Z a–z 0–9 _ . : -).
    ref : str or None, optional
        Replies and events: the id of the request they answer. None on requests
        (and on ``error`` about a message whose id could not be read).
    fields : dict, optional
        The type-specific fields (JSON values), without the envelope keys.
    buffers : list of (BufferSpec, bytes), optional
        The payloads sent as binary frames after the JSON frame, in order.
    """

    type: str
    id: str
    ref: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    buffers: list[Buffer] = field(default_factory=list)

    @property
    def specs(self) -> list[BufferSpec]:
        """The buffer specs, in order."""
        return [spec for spec, _ in self.buffers]

    def buffer(self, name: str) -> Buffer:
        """The buffer called ``name``.

        Raises
        ------
        KeyError
            If the message has no such buffer.
        """
        for spec, data in self.buffers:
            if spec.name == name:
                return spec, data
        raise KeyError(f"message {self.id!r} has no buffer {name!r}; it has {[s.name for s in self.specs]}")

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the message's text frame (buffer sizes filled in from the payloads).

        Key order: ``v``, ``type``, ``id``, ``ref`` (when not None), ``buffers`` (when
        any), then ``fields`` in their order.

        Raises
        ------
        ValueError
            If the id is invalid, a field uses an envelope key, or a payload's length
            disagrees with its spec.
        """
        if not is_valid_id(self.id):
            raise ValueError(f"id: expected 1 to {ID_MAX_LENGTH} characters from {ID_CHARACTERS}; got {self.id!r}")
        if not isinstance(self.type, str) or not self.type:
            raise ValueError(f"type: expected a non-empty string; got {self.type!r}")
        if self.ref is not None and not is_valid_id(self.ref):
            raise ValueError(f"ref: expected a message id or None; got {self.ref!r}")
        clash = ENVELOPE_KEYS.intersection(self.fields)
        if clash:
            raise ValueError(f"fields: may not contain the envelope keys {sorted(clash)}")
        obj: dict[str, Any] = {"v": PROTOCOL_VERSION, "type": self.type, "id": self.id}
        if self.ref is not None:
            obj["ref"] = self.ref
        if self.buffers:
            obj["buffers"] = [_filled(spec, data).to_json() for spec, data in self.buffers]
        obj.update(self.fields)
        return obj


def payload_size(data: BytesLike) -> int:
    """Bytes in a payload (``nbytes`` for memoryviews of multi-byte items)."""
    return data.nbytes if isinstance(data, memoryview) else len(data)


def _filled(spec: BufferSpec, data: BytesLike) -> BufferSpec:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"buffer {spec.name!r}: expected bytes, bytearray or memoryview; got {type(data).__name__}")
    n = payload_size(data)
    if spec.size is None:
        return BufferSpec(spec.name, spec.format, spec.width, spec.height, n)  # checks raw sizes
    if spec.size != n:
        raise ValueError(f"buffer {spec.name!r}: spec says {spec.size} bytes; payload has {n}")
    return spec


def buffer(name: str, data: BytesLike, *, format: str, width: int, height: int) -> Buffer:
    """A (spec, payload) pair with the size taken from the payload.

    Parameters
    ----------
    name : str
        The buffer's name (``image``, ``guide``, ``alpha``, ...).
    data : bytes-like
        Raw pixels (``width * height * channels`` bytes, row-major, top-down) or a PNG file.
    format : str
        ``rgba8``, ``rgb8``, ``grey8`` or ``png``.
    width, height : int
        The image's size in pixels.

    Raises
    ------
    ValueError
        If a raw payload's length is not ``width * height * channels``.
    """
    spec = BufferSpec(name, format, width, height)
    return _filled(spec, data), data


def _as_buffer(item: Any) -> Buffer:
    """A (spec, data) pair, or any object with name, format, width, height and data attributes."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], BufferSpec):
        return item
    try:
        return buffer(item.name, item.data, format=item.format, width=item.width, height=item.height)
    except AttributeError:
        raise TypeError(
            f"buffers: expected (BufferSpec, bytes) pairs or objects with name, format, width, height, data; "
            f"got {type(item).__name__}"
        ) from None


def _fresh(id: str | None) -> str:
    return new_id("c") if id is None else id


# ---------------------------------------------------------------- client → engine


def hello(*, key: str, nonce: str, client_name: str, client_version: str, accepts: Sequence[str] = (),
          cutout_format: str | None = None, id: str | None = None) -> Message:
    """The handshake request (the first message of a connection, or the first after ``paired``).

    ``key``: ``"master"`` (the token file's token) or a paired token's id; ``nonce``: 64 hex digits,
    fresh (:func:`~wire.protocol.auth.new_nonce`); no secret is sent. ``accepts``: the engine
    requests this client answers (``place_layer``, ``canvas_snapshot``); a client that accepts
    ``place_layer`` is an editor connection. ``cutout_format``: "png" (the default) or "rgba8", how it
    wants place_layer's cut-out.
    """
    fields: dict[str, Any] = {
        "protocol": PROTOCOL_VERSION, "client": {"name": client_name, "version": client_version}, "key": key,
        "nonce": nonce,
    }
    if accepts:
        fields["accepts"] = list(accepts)
    if cutout_format is not None:
        fields["cutout_format"] = cutout_format
    return Message("hello", _fresh(id), fields=fields)


def auth(challenge: str, *, proof: str, id: str | None = None) -> Message:
    """The answer to ``challenge`` (its id): the client's proof (:func:`~wire.protocol.auth.client_proof`)."""
    return Message("auth", _fresh(id), challenge, {"proof": proof})


def pair(code: str, *, client: Mapping[str, str], id: str | None = None) -> Message:
    """Trade the pairing code ``softcut serve`` prints (or a phone link's one-time token) for a scoped
    token of its own (only before ``hello``).

    ``client``: {"name": ..., "version": ...}, as in ``hello``.
    """
    return Message("pair", _fresh(id), fields={"code": code, "client": dict(client)})


def _edges(edges: Mapping[str, float] | None) -> dict[str, float]:
    return dict(edges) if edges else {}


def _matte_fields(outputs: Sequence[str], format: str, refine: str, edges: Mapping[str, float] | None,
                  decontaminate: float, band: float, extra: Mapping[str, Any] | None = None, *, priority: str,
                  model: str | None) -> dict[str, Any]:
    """The fields of a matting request (select_subject, plate_matte, video_start), in their wire order:
    the matte's, then ``extra`` (the request's own), ``priority`` and ``model`` when given."""
    fields: dict[str, Any] = {
        "outputs": list(outputs),
        "format": format,
        "refine": refine,
        "edges": _edges(edges),
        "decontaminate": decontaminate,
        "band": band,
        **(extra or {}),
        "priority": priority,
    }
    if model is not None:
        fields["model"] = model
    return fields


def select_subject(
    image: Buffer,
    *,
    outputs: Sequence[str] = ("alpha",),
    format: str = "raw",
    refine: str = "best",
    edges: Mapping[str, float] | None = None,
    decontaminate: float = 1.0,
    band: float = 0.015,
    priority: str = "interactive",
    model: str | None = None,
    id: str | None = None,
) -> Message:
    """A Select Subject request for ``image`` (a :func:`buffer` named ``image``).

    ``edges`` maps smooth, feather, contrast, shift_edge to values (absent: 0);
    ``model`` None means the engine's loaded model. See docs/protocol.md for ranges.
    """
    fields = _matte_fields(outputs, format, refine, edges, decontaminate, band, priority=priority, model=model)
    return Message("select_subject", _fresh(id), fields=fields, buffers=[image])


def plate_matte(
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
    model: str | None = None,
    id: str | None = None,
) -> Message:
    """Select Subject with a clean plate: ``image`` and ``plate`` are :func:`buffer` s named
    ``image`` and ``plate``; the other fields as for :func:`select_subject`."""
    fields = _matte_fields(outputs, format, refine, edges, decontaminate, band, priority=priority, model=model)
    return Message("plate_matte", _fresh(id), fields=fields, buffers=[image, plate])


def soft_segments(
    image: Buffer,
    *,
    count: int = DEFAULT_SEGMENTS,
    masks: str = "stacked",
    format: str = "raw",
    priority: str = "interactive",
    model: str | None = None,
    id: str | None = None,
) -> Message:
    """A request to decompose ``image`` into ``count`` soft layers (buffers segment0…, largest first)."""
    fields: dict[str, Any] = {"count": count, "masks": masks, "format": format, "priority": priority}
    if model is not None:
        fields["model"] = model
    return Message("soft_segments", _fresh(id), fields=fields, buffers=[image])


def trimap(
    image: Buffer,
    *,
    band: float = 0.015,
    format: str = "raw",
    priority: str = "interactive",
    model: str | None = None,
    id: str | None = None,
) -> Message:
    """A request for the automatic trimap of ``image``."""
    fields: dict[str, Any] = {"band": band, "format": format, "priority": priority}
    if model is not None:
        fields["model"] = model
    return Message("trimap", _fresh(id), fields=fields, buffers=[image])


def refine(
    image: Buffer,
    guide: Buffer,
    *,
    guide_kind: str = "trimap",
    mode: str = "best",
    outputs: Sequence[str] = ("alpha",),
    format: str = "raw",
    priority: str = "interactive",
    id: str | None = None,
) -> Message:
    """A request to refine ``guide`` (a trimap or a rough mask, named ``guide``) into an alpha."""
    fields = {"guide": guide_kind, "mode": mode, "outputs": list(outputs), "format": format, "priority": priority}
    return Message("refine", _fresh(id), fields=fields, buffers=[image, guide])


def adjust_edges(
    result_id: str,
    *,
    edges: Mapping[str, float] | None = None,
    decontaminate: float = 1.0,
    outputs: Sequence[str] = ("alpha",),
    format: str = "raw",
    priority: str = "interactive",
    id: str | None = None,
) -> Message:
    """A request to re-apply edge controls to the cached result ``result_id``."""
    fields = {
        "result": result_id,
        "edges": _edges(edges),
        "decontaminate": decontaminate,
        "outputs": list(outputs),
        "format": format,
        "priority": priority,
    }
    return Message("adjust_edges", _fresh(id), fields=fields)


def phone_cut(image: Buffer, *, preview_max: int = DEFAULT_PREVIEW_MAX, priority: str = "interactive",
              id: str | None = None) -> Message:
    """Cut out a phone photo's subject (``image``: jpeg, png or raw); the result's ``cut`` names the kept cut-out."""
    return Message("phone_cut", _fresh(id), fields={"preview_max": preview_max, "priority": priority}, buffers=[image])


def phone_paste(cut: str, photo: Buffer, *, target: str | None = None, name: str = DEFAULT_LAYER_NAME,
                priority: str = "interactive", id: str | None = None) -> Message:
    """Paste the cut-out ``cut`` where ``photo`` (a buffer named ``photo``: the editor's screen) points.

    ``target``: an editor's client name (None: the last active editor).
    """
    fields: dict[str, Any] = {"cut": cut, "name": name, "priority": priority}
    if target is not None:
        fields["target"] = target
    return Message("phone_paste", _fresh(id), fields=fields, buffers=[photo])


def video_start(
    *,
    plate: Buffer | None = None,
    outputs: Sequence[str] = ("alpha",),
    format: str = "raw",
    refine: str = DEFAULT_VIDEO_REFINE,
    edges: Mapping[str, float] | None = None,
    decontaminate: float = 1.0,
    band: float = 0.015,
    delay: bool = True,
    smoothing: float = DEFAULT_SMOOTHING,
    priority: str = "interactive",
    model: str | None = None,
    id: str | None = None,
) -> Message:
    """Open a video stream (its id is this request's id); ``plate``: an optional clean plate
    (a :func:`buffer` named ``plate``). ``delay``: the one-frame-delay correction;
    ``smoothing`` in [0, 1): motion-compensated smoothing (0: off). The other fields as for
    :func:`select_subject` (``refine`` defaults to "fast" for video)."""
    fields = _matte_fields(outputs, format, refine, edges, decontaminate, band,
                           {"delay": bool(delay), "smoothing": smoothing}, priority=priority, model=model)
    return Message("video_start", _fresh(id), fields=fields, buffers=[] if plate is None else [plate])


def video_frame(stream: str, image: Buffer, *, id: str | None = None) -> Message:
    """The next frame (``image``: a :func:`buffer` named ``image``) of the stream opened by video_start ``stream``."""
    return Message("video_frame", _fresh(id), fields={"stream": stream}, buffers=[image])


def video_end(stream: str, *, id: str | None = None) -> Message:
    """No more frames for stream ``stream``: the engine answers the last one, then ends the job with ``result``."""
    return Message("video_end", _fresh(id), fields={"stream": stream})


def phone_link(*, id: str | None = None) -> Message:
    """A request for the phone's pairing URL and its QR code."""
    return Message("phone_link", _fresh(id))


def models_list(*, id: str | None = None) -> Message:
    """A request for the engine's models."""
    return Message("models.list", _fresh(id))


def status(*, id: str | None = None) -> Message:
    """A request for the engine's state."""
    return Message("status", _fresh(id))


def cancel(job: str, *, id: str | None = None) -> Message:
    """A request to cancel the job started by request ``job``."""
    return Message("cancel", _fresh(id), fields={"job": job})


# ---------------------------------------------------------------- engine → client


@dataclass(frozen=True)
class Limits:
    """What the engine accepts from one client (sent in ``welcome.limits``)."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES
    max_queued_per_client: int = DEFAULT_MAX_QUEUED_PER_CLIENT
    max_pending_frames: int = DEFAULT_MAX_PENDING_FRAMES

    def __post_init__(self) -> None:
        for key in ("max_pixels", "max_frame_bytes", "max_text_bytes", "max_queued_per_client", "max_pending_frames"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{key}: expected an integer > 0; got {value!r}")
        if self.max_pending_frames < 2:  # a stream answers a frame once it has the next
            raise ValueError(f"max_pending_frames: expected an integer >= 2; got {self.max_pending_frames}")

    def to_json(self) -> dict[str, int]:
        return {
            "max_pixels": self.max_pixels,
            "max_frame_bytes": self.max_frame_bytes,
            "max_text_bytes": self.max_text_bytes,
            "max_queued_per_client": self.max_queued_per_client,
            "max_pending_frames": self.max_pending_frames,
        }


def _engine_id(id: str | None) -> str:
    return new_id("e") if id is None else id


def welcome(
    ref: str,
    *,
    engine: Mapping[str, str],
    device: str,
    models: Iterable[Mapping[str, Any]],
    capabilities: Iterable[str] = REQUEST_TYPES,
    limits: Limits | Mapping[str, int],
    id: str | None = None,
) -> Message:
    """The answer to ``hello`` (``ref``): engine name and version, device, models, limits."""
    fields = {
        "protocol": PROTOCOL_VERSION,
        "engine": dict(engine),
        "device": device,
        "models": [dict(m) for m in models],
        "capabilities": list(capabilities),
        "limits": limits.to_json() if isinstance(limits, Limits) else dict(limits),
    }
    return Message("welcome", _engine_id(id), ref, fields)


def paired(credential: str, *, scope: str, ref: str, id: str | None = None) -> Message:
    """The answer to ``pair`` (``ref``): the code was right; ``credential`` (``"<id>.<secret>"``) is the
    scoped token made for this client (``scope`` "editor" or "phone"), which ``hello`` names by its id."""
    return Message("paired", _engine_id(id), ref, {"credential": credential, "scope": scope})


def challenge(ref: str, *, nonce: str, proof: str, id: str | None = None) -> Message:
    """The answer to ``hello`` (``ref``): the engine's nonce and its proof that it holds the key
    (:func:`~wire.protocol.auth.engine_proof`)."""
    return Message("challenge", _engine_id(id), ref, {"nonce": nonce, "proof": proof})


def accepted(ref: str, *, position: int, id: str | None = None) -> Message:
    """Job ``ref`` was queued with ``position`` jobs ahead of it."""
    return Message("accepted", _engine_id(id), ref, {"position": position})


def progress(ref: str, *, fraction: float, stage: str, id: str | None = None) -> Message:
    """Job ``ref`` reached ``fraction`` (0–1) of its work, now in ``stage``."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction: expected a value in [0, 1]; got {fraction}")
    return Message("progress", _engine_id(id), ref, {"fraction": fraction, "stage": stage})


def result(ref: str, fields: Mapping[str, Any], buffers: Sequence[Any], *, id: str | None = None) -> Message:
    """Job ``ref`` finished.

    Parameters
    ----------
    ref : str
        The request's id.
    fields : Mapping
        ``result`` (the cached result's id) and optionally ``confidence``,
        ``low_confidence``, ``timings``, ``device`` and further informative fields.
    buffers : sequence
        One per output: (BufferSpec, bytes) pairs, or objects with ``name``, ``format``,
        ``width``, ``height`` and ``data`` attributes.
    """
    if "result" not in fields:
        raise ValueError("fields: expected a 'result' id")
    return Message("result", _engine_id(id), ref, dict(fields), [_as_buffer(b) for b in buffers])


def frame(ref: str, *, index: int, frame: str, confidence: float, buffers: Sequence[Any],
          id: str | None = None) -> Message:
    """Frame ``index`` (from 0) of the video stream ``ref`` (the video_start's id), carried by video_frame
    ``frame``: the model's ``confidence`` (0–1) and one buffer per requested output (as for :func:`result`)."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"index: expected an integer >= 0; got {index!r}")
    fields = {"index": index, "frame": frame, "confidence": confidence}
    return Message("frame", _engine_id(id), ref, fields, [_as_buffer(b) for b in buffers])


def error(code: str, message: str, *, ref: str | None = None, id: str | None = None) -> Message:
    """An error about request ``ref`` (None: the offending message had no readable id).

    Raises
    ------
    ValueError
        If ``code`` is not one of the protocol's error codes.
    """
    code = getattr(code, "value", code)
    if code not in ERROR_CODES:
        raise ValueError(f"code: expected one of {', '.join(ERROR_CODES)}; got {code!r}")
    # The message may quote what the peer sent, lone surrogates ("\ud800" in its JSON) included,
    # which no UTF-8 text frame can carry: they are written as \uXXXX escapes instead.
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return Message("error", _engine_id(id), ref if is_valid_id(ref) else None, {"code": code, "message": message})


def error_from(exc: Any, *, id: str | None = None) -> Message:
    """The ``error`` message for a :class:`~wire.protocol.errors.ProtocolError`."""
    return error(exc.code, exc.message, ref=exc.ref, id=id)


def cancelled(ref: str, *, by: str | None = None, id: str | None = None) -> Message:
    """Job ``ref`` was cancelled; ``by`` is the id of the ``cancel`` request, when there was one."""
    return Message("cancelled", _engine_id(id), ref, {} if by is None else {"by": by})


def phone_link_reply(ref: str, *, url: str, qr: Buffer, id: str | None = None) -> Message:
    """The answer to ``phone_link`` (``ref``): the URL and its QR code (a png buffer named ``qr``)."""
    return Message("phone_link", _engine_id(id), ref, {"url": url}, [qr])


# ---------------------------------------------------------------- engine → editor, and the editor's answers


def canvas_snapshot(*, max_side: int = DEFAULT_SNAPSHOT_MAX_SIDE, id: str | None = None) -> Message:
    """The engine asks an editor for its active document as displayed (answered by :func:`snapshot`)."""
    return Message("canvas_snapshot", _engine_id(id), fields={"max_side": max_side})


def place_layer(delivery: str, cutout: Buffer, *, name: str, x: int | None, y: int | None,
                id: str | None = None) -> Message:
    """The engine asks an editor to insert ``cutout`` (a png or rgba8 buffer named ``cutout``) as a new layer
    with its top-left at (``x``, ``y``) document pixels (both None: centred); answered by :func:`placed`."""
    if (x is None) != (y is None):
        raise ValueError(f"x, y: expected both integers or both None; got {x!r}, {y!r}")
    return Message("place_layer", _engine_id(id), fields={"delivery": delivery, "name": name, "x": x, "y": y},
                   buffers=[cutout])


def snapshot(ref: str, image: Buffer, *, document: Mapping[str, int], view: Mapping[str, int] | None = None,
             id: str | None = None) -> Message:
    """An editor's answer to ``canvas_snapshot`` ``ref``: the composite (``image``: rgb8 or png, named
    ``image``), the document's full ``{width, height}`` and the canvas's place on the screen (or None)."""
    fields = {"document": dict(document), "view": None if view is None else dict(view)}
    return Message("snapshot", _fresh(id), ref, fields, [image])


def placed(ref: str, *, delivery: str, ok: bool, message: str = "", id: str | None = None) -> Message:
    """An editor's answer to ``place_layer`` ``ref``: whether delivery ``delivery`` is in the document."""
    return Message("placed", _fresh(id), ref, {"delivery": delivery, "ok": bool(ok), "message": message})


def reply(type: str, ref: str, /, **fields: Any) -> Message:
    """Any other engine reply (``models``, ``status``): ``type`` answering ``ref`` with ``fields``."""
    return Message(type, _engine_id(None), ref, dict(fields))
