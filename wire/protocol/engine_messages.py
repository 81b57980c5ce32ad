"""The constructors of what the engine sends: replies and events (:func:`challenge`, :func:`welcome`,
:func:`paired`, :func:`accepted`, :func:`progress`, :func:`result`, :func:`frame`, :func:`error`,
:func:`cancelled`, :func:`reply`) and its requests to editors (:func:`canvas_snapshot`, :func:`place_layer`).
Ids are ``e`` + 16 hex digits unless given.

Standard library only (editor plug-ins vendor this package).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .constants import (
    DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_PENDING_FRAMES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_QUEUED_PER_CLIENT,
    DEFAULT_MAX_TEXT_BYTES, DEFAULT_SNAPSHOT_MAX_SIDE, PROTOCOL_VERSION,
)
from .envelope import Buffer, Message, as_buffer, is_valid_id, new_id
from .errors import ERROR_CODES
from .request_schemas import REQUEST_TYPES


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
    return Message("result", _engine_id(id), ref, dict(fields), [as_buffer(b) for b in buffers])


def frame(ref: str, *, index: int, frame: str, confidence: float, buffers: Sequence[Any],
          id: str | None = None) -> Message:
    """Frame ``index`` (from 0) of the video stream ``ref`` (the video_start's id), carried by video_frame
    ``frame``: the model's ``confidence`` (0–1) and one buffer per requested output (as for :func:`result`)."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"index: expected an integer >= 0; got {index!r}")
    fields = {"index": index, "frame": frame, "confidence": confidence}
    return Message("frame", _engine_id(id), ref, fields, [as_buffer(b) for b in buffers])


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


def reply(type: str, ref: str, /, **fields: Any) -> Message:
    """Any other engine reply (``models``, ``status``): ``type`` answering ``ref`` with ``fields``."""
    return Message(type, _engine_id(None), ref, dict(fields))
