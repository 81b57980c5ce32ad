"""Softcut engine protocol v1, with no I/O: messages, JSON Schemas, and the frame codec.

Standard library only, so editor plug-ins can vendor it; nothing is done at import.
See ``docs/protocol.md`` for the specification.

Modules
-------
errors
    :class:`ErrorCode`, :class:`ProtocolError`, :class:`InvalidState`.
schemas
    Constants, a JSON Schema per message type, :func:`check_request`.
messages
    :class:`Message`, :class:`BufferSpec`, constructors for requests and replies.
codec
    :func:`encode` (message → frames) and :class:`Decoder` (frames → messages).
"""

from .codec import Decoder, DecoderState, encode
from .errors import ERROR_CODES, ErrorCode, InvalidState, ProtocolError
from .messages import BufferSpec, Limits, Message
from .schemas import DEFAULT_PORT, PROTOCOL_VERSION, check_request

__all__ = [
    "BufferSpec",
    "DEFAULT_PORT",
    "Decoder",
    "DecoderState",
    "ERROR_CODES",
    "ErrorCode",
    "InvalidState",
    "Limits",
    "Message",
    "PROTOCOL_VERSION",
    "ProtocolError",
    "check_request",
    "encode",
]
