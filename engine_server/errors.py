"""The errors a job ends with that its client is told of, each with its protocol error code: the
library's (:class:`core.errors.SoftcutError`) and the engine's own. Imports no operation: the
operations, the phone deliveries and the server all import it."""

from __future__ import annotations

from core.errors import SoftcutError
from wire.protocol.errors import ERROR_CODES, ErrorCode


class NotFound(LookupError):
    """A request names something the engine does not have (a result id, a model, a stream)."""

    code = ErrorCode.NOT_FOUND.value


class Busy(Exception):
    """A request the engine cannot take now (a video stream with too many frames unanswered)."""

    code = ErrorCode.BUSY.value


ANSWERED = (SoftcutError, NotFound, Busy)
"""What ends a job with an ``error`` of its code (anything else is a bug: ``internal``)."""


def error_code(exc: BaseException) -> str:
    """The protocol's error code for an exception an operation raised.

    The nearest ``code`` in the exception's class hierarchy that the protocol knows
    (ImageDecodeError's "image_decode_failed" is not a protocol code, so its parent
    ImageInputError's "bad_image" answers); "internal" for anything else.
    """
    for cls in type(exc).__mro__:
        code = vars(cls).get("code")
        if code in ERROR_CODES:
            return code
    return ErrorCode.INTERNAL.value
