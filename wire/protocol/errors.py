"""Protocol errors: the stable error codes and the exceptions the codec raises.

Standard library only (editor plug-ins vendor this package).
"""

from __future__ import annotations

import enum


class ErrorCode(str, enum.Enum):
    """The stable error codes of the protocol (the ``code`` of an ``error`` message).

    Codes are never renamed or reused; new ones may be added in a later minor
    revision, so clients treat an unknown code like ``internal``.
    """

    BAD_MESSAGE = "bad_message"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNAUTHORIZED = "unauthorized"
    NOT_READY = "not_ready"
    UNKNOWN_TYPE = "unknown_type"
    BAD_PARAMETER = "bad_parameter"
    BAD_IMAGE = "bad_image"
    IMAGE_TOO_LARGE = "image_too_large"
    FRAME_TOO_LARGE = "frame_too_large"
    BUSY = "busy"
    NOT_FOUND = "not_found"
    CANCELLED = "cancelled"
    MODEL_ERROR = "model_error"
    ALIGNMENT_FAILED = "alignment_failed"
    STORAGE_FAILED = "storage_failed"
    INTERNAL = "internal"


ERROR_CODES: tuple[str, ...] = tuple(code.value for code in ErrorCode)
"""Every error code, in documentation order."""

ERROR_DESCRIPTIONS: dict[str, str] = {
    "bad_message": "A frame could not be read as a message: not JSON, not an object, a missing or "
    "malformed envelope field (`v`, `type`, `id`, `ref`, `buffers`), a binary frame nobody announced, "
    "a binary frame of the wrong size, or a text frame where a binary frame was due.",
    "unsupported_version": "`v` (or `hello.protocol`) is not a protocol version this peer speaks.",
    "unauthorized": "`hello` named an unknown or revoked key, `auth` carried a wrong proof, or `pair` a wrong, expired "
    "or used code (or the engine offers no pairing codes): the engine closes the connection (close code 4001), as it "
    "does when a live connection's token is revoked. Also a request the connection's token scope does not allow "
    "(the message names the scope); the connection then stays open.",
    "not_ready": "A request other than `hello` or `pair` arrived before the handshake completed (or other than "
    "`auth` while the engine's challenge awaits its answer).",
    "unknown_type": "`type` names no message of this protocol version (or a reply type sent as a request).",
    "bad_parameter": "A request field (or buffer spec) is missing, of the wrong type, out of range or "
    "unknown; the message names the field, e.g. `edges.feather`.",
    "bad_image": "An image payload cannot be decoded, or a PNG's header does not match its buffer spec.",
    "image_too_large": "An announced buffer has more pixels than `limits.max_pixels`, or the job's estimated "
    "memory (from its pixels and mode) is more than the engine's whole memory budget (`softcut serve --memory`); "
    "the message says how much it needs. A job that fits the budget but not now waits instead.",
    "frame_too_large": "A frame, or an announced buffer, is larger than `limits.max_frame_bytes` "
    "(`max_text_bytes` for JSON frames).",
    "busy": "The client already has `limits.max_queued_per_client` jobs queued or running, or a video stream "
    "already has `limits.max_pending_frames` frames received and not yet answered; retry later. Also a `pair` "
    "from an address held back after wrong pairing codes (the message says when to try again; the engine then "
    "closes the connection, code 4029).",
    "not_found": "`cancel.job`, `adjust_edges.result`, `model` or a video_frame's or video_end's `stream` names "
    "nothing the engine knows (a result may have been evicted from the cache; a stream may have ended).",
    "cancelled": "A request was dropped for a reason other than the client's own `cancel` "
    "(the engine is shutting down, or the result it depends on was cancelled).",
    "model_error": "The model could not be loaded or failed while running.",
    "alignment_failed": "`plate_matte`: the clean plate could not be aligned with the image (too few matching "
    "features, an implausible camera move, too little overlap, or another scene); the message says which.",
    "storage_failed": "The engine could not write a file it must keep (`phone_cut`'s cut-out in the outbox, `pair`'s "
    "new token in tokens.json): the "
    "disk is full, read-only or failing. The message says which, with the path, e.g. \"the engine could not save the "
    "cut-out: no space left on device (…/outbox/d….png)\". Nothing half-written is kept; retry once there is room.",
    "internal": "A bug in the engine. The message says what failed; the connection stays usable.",
}
"""One line per code, as documented in ``docs/protocol.md``."""


class ProtocolError(Exception):
    """A message broke the protocol; the peer is told with an ``error`` message.

    Parameters
    ----------
    code : str
        One of :data:`ERROR_CODES` (an :class:`ErrorCode` is accepted too).
    message : str
        A human-readable explanation that names the offending field.
    ref : str or None, optional
        The id of the offending message, or None when it had no readable id.

    Raises
    ------
    ValueError
        If ``code`` is not a protocol error code.
    """

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        code = code.value if isinstance(code, ErrorCode) else code
        if code not in ERROR_CODES:
            raise ValueError(f"code: expected one of {', '.join(ERROR_CODES)}; got {code!r}")
        super().__init__(message)
        self.code: str = code
        self.message: str = message
        self.ref: str | None = ref

    def __repr__(self) -> str:
        return f"ProtocolError({self.code!r}, {self.message!r}, ref={self.ref!r})"


class InvalidState(RuntimeError):
    """A codec object was used in a state that does not allow the call (a programming error)."""
