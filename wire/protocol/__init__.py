"""Softcut engine protocol v2, with no I/O: messages, JSON Schemas, and the frame codec.

Standard library only, so editor plug-ins can vendor it; nothing is done at import.
See ``docs/protocol.md`` for the specification.

Modules
-------
errors
    :class:`ErrorCode`, :class:`ProtocolError`, :class:`InvalidState`.
auth
    The handshake's HMAC proofs.
constants
    The version, id rules, buffer formats, outputs, limits and named defaults.
schema_parts, request_schemas, reply_schemas
    A JSON Schema per message type (request_schemas also: :func:`~.request_schemas.defaults`).
validator, checks
    The JSON Schema interpreter; :func:`check_request` and the other message checks.
schemas
    All of the above in one namespace (``schemas.REQUEST_SCHEMAS``, ``schemas.check_request``, ...).
envelope, client_messages, engine_messages
    :class:`Message`, :class:`BufferSpec`; constructors for what clients and the engine send.
messages
    The envelope and every constructor in one namespace (``messages.select_subject``, ...).
codec
    :func:`encode` (message → frames) and :class:`Decoder` (frames → messages).
docgen
    The generated sections of ``docs/protocol.md``.
"""

from .checks import check_request
from .codec import Decoder, DecoderState, encode
from .constants import DEFAULT_PORT, PROTOCOL_VERSION
from .errors import ERROR_CODES, ErrorCode, InvalidState, ProtocolError
from .messages import BufferSpec, Limits, Message

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
