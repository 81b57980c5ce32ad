"""The checks the codec and the server run on every message: the schema of its type (client → engine,
engine → client, engine → editor, editor → engine), then the rules a schema cannot express (a raw
buffer's size, unique buffer names, the guide's size matching the image's), each failure a
:class:`~wire.protocol.errors.ProtocolError` with the code the protocol gives it.

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .constants import PROTOCOL_VERSION, RAW_CHANNELS, UPDATE_HINT
from .errors import ProtocolError
from .reply_schemas import EDITOR_REPLY_SCHEMAS, ENGINE_REQUEST_SCHEMAS, REPLY_SCHEMAS, REPLY_TYPES
from .request_schemas import REQUEST_SCHEMAS, REQUEST_TYPES
from .schema_parts import ID
from .validator import SchemaViolation, has_type, show_value, validate

if TYPE_CHECKING:  # pragma: no cover
    from .messages import Message

_ENVELOPE_CODES = {"v": "unsupported_version", "type": "bad_message", "id": "bad_message", "ref": "bad_message"}


def _is_id(value: Any) -> bool:
    try:
        validate(value, ID)
    except SchemaViolation:
        return False
    return True


def _code_for(exc: SchemaViolation, default: str) -> str:
    head = re.split(r"[.\[]", exc.path, maxsplit=1)[0]
    code = _ENVELOPE_CODES.get(head, default)
    if code == "unsupported_version" and exc.problem == "required field is missing":
        return "bad_message"
    return code


def _check_against(obj: Mapping[str, Any], schema: Mapping[str, Any], ref: str | None, code: str) -> None:
    """Validate ``obj`` against ``schema``, then the buffer rules; a violation raises :class:`ProtocolError`
    with ``code`` (or the envelope field's own code) and ``ref``."""
    try:
        validate(obj, schema)
    except SchemaViolation as exc:
        raise ProtocolError(_code_for(exc, code), str(exc), ref) from None
    _check_buffer_rules(obj, ref, code)


def check_request_object(obj: Mapping[str, Any]) -> None:
    """Check a request in its JSON form (envelope, fields and buffer specs; no payloads).

    Parameters
    ----------
    obj : Mapping
        The decoded JSON object of a client → engine message.

    Raises
    ------
    ProtocolError
        ``unknown_type`` for a type that is not a request; ``unsupported_version`` for a
        ``v`` or ``hello.protocol`` other than :data:`PROTOCOL_VERSION`; ``bad_message`` for a malformed envelope
        (``id``, ``ref``); ``bad_parameter`` naming the field for everything else.
    """
    ref = obj.get("id") if _is_id(obj.get("id")) else None
    type_ = obj.get("type")
    schema = REQUEST_SCHEMAS.get(type_) if isinstance(type_, str) else None
    if schema is None:
        if isinstance(type_, str) and type_ in REPLY_SCHEMAS:
            raise ProtocolError("unknown_type", f"type: {type_!r} is sent by the engine, not a request", ref)
        raise ProtocolError("unknown_type", f"type: expected one of {', '.join(REQUEST_TYPES)}; got {show_value(type_)}", ref)
    if type_ == "hello" and has_type(obj.get("protocol"), "integer") and obj["protocol"] != PROTOCOL_VERSION:
        raise ProtocolError(
            "unsupported_version",
            f"protocol: this engine speaks protocol {PROTOCOL_VERSION}; got {obj['protocol']}"
            + (f" ({UPDATE_HINT})" if obj["protocol"] < PROTOCOL_VERSION else ""), ref
        )
    _check_against(obj, schema, ref, "bad_parameter")


def check_reply_object(obj: Mapping[str, Any]) -> None:
    """Check an engine → client message in its JSON form.

    Raises
    ------
    ProtocolError
        ``unknown_type`` for a type that is not an engine message, ``unsupported_version``
        for a ``v`` other than :data:`PROTOCOL_VERSION`, ``bad_message`` for anything else.
    """
    ref = obj.get("ref") if _is_id(obj.get("ref")) else None
    type_ = obj.get("type")
    schema = REPLY_SCHEMAS.get(type_) if isinstance(type_, str) else None
    if schema is None:
        raise ProtocolError("unknown_type", f"type: expected one of {', '.join(REPLY_TYPES)}; got {show_value(type_)}", ref)
    _check_against(obj, schema, ref, "bad_message")


def check_from_client(obj: Mapping[str, Any]) -> None:
    """Check any client → engine message in its JSON form: a request, or an editor's answer to an
    engine request (``snapshot``, ``placed``, or ``error`` with a ``ref``).

    Raises
    ------
    ProtocolError
        As :func:`check_request_object`; answers are checked against :data:`EDITOR_REPLY_SCHEMAS`
        (``bad_parameter`` naming the field, ``bad_message`` for the envelope).
    """
    type_ = obj.get("type")
    if not isinstance(type_, str) or type_ not in EDITOR_REPLY_SCHEMAS or (type_ == "error" and "ref" not in obj):
        check_request_object(obj)
        return
    ref = obj.get("id") if _is_id(obj.get("id")) else None
    _check_against(obj, EDITOR_REPLY_SCHEMAS[type_], ref, "bad_parameter")


def check_from_engine(obj: Mapping[str, Any]) -> None:
    """Check any engine → client message in its JSON form: a reply or event, or an engine request
    (``canvas_snapshot``, ``place_layer``: no ``ref``).

    Raises
    ------
    ProtocolError
        As :func:`check_reply_object` (``bad_message`` for a malformed engine request).
    """
    type_ = obj.get("type")
    if not isinstance(type_, str) or type_ not in ENGINE_REQUEST_SCHEMAS or "ref" in obj:
        check_reply_object(obj)
        return
    ref = obj.get("id") if _is_id(obj.get("id")) else None
    _check_against(obj, ENGINE_REQUEST_SCHEMAS[type_], ref, "bad_message")


def _check_buffer_rules(obj: Mapping[str, Any], ref: str | None, code: str) -> None:
    """The rules a schema cannot say: raw sizes, unique names, the guide's size."""
    specs = obj.get("buffers") or []
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        channels = RAW_CHANNELS.get(spec["format"])
        if channels is not None and spec["size"] != spec["width"] * spec["height"] * channels:
            expected = spec["width"] * spec["height"] * channels
            raise ProtocolError(
                "bad_message",
                f"buffers[{i}].size: expected width*height*{channels} = {expected:.0f} for {spec['format']}; "
                f"got {spec['size']}",
                ref,
            )
        if spec["name"] in seen:
            raise ProtocolError(code, f"buffers[{i}].name: duplicate buffer name {spec['name']!r}", ref)
        seen.add(spec["name"])
    if obj.get("type") == "select_object":
        _check_object_buffers(obj, specs, ref, code)
    if obj.get("type") == "refine" and len(specs) == 2:
        image, guide = specs
        if _full_size(guide) != (image["width"], image["height"]):
            raise ProtocolError(
                code,
                f"buffers[1]: expected the guide to be {image['width']}x{image['height']} like the image; "
                "got {}x{}".format(*_full_size(guide)),
                ref,
            )


def _full_size(spec: Mapping[str, Any]) -> tuple[int, int]:
    """(width, height) of the image a buffer spec is: its ``within``'s full size when it is a box of it."""
    within = spec.get("within")
    return (within[2], within[3]) if within is not None else (spec["width"], spec["height"])


def _check_object_buffers(obj: Mapping[str, Any], specs: list[Mapping[str, Any]], ref: str | None,
                          code: str) -> None:
    """``select_object``: the image comes once (its buffer or its key, not both, not neither); a mask or
    previous buffer has the image's size when the image is sent."""
    by_name = {spec["name"]: spec for spec in specs}
    image = by_name.get("image")
    if (image is None) == ("image" not in obj):
        raise ProtocolError(code, "image: expected either the image buffer or the key of a prepared image "
                                  f"({'neither' if image is None else 'both'} given)", ref)
    for name in ("mask", "previous"):
        spec = by_name.get(name)
        if spec is not None and image is not None and _full_size(spec) != (image["width"], image["height"]):
            raise ProtocolError(code, f"buffers: expected the {name} to be {image['width']}x{image['height']} "
                                      "like the image; got {}x{}".format(*_full_size(spec)), ref)
    if "previous" in by_name and "previous" in obj:
        raise ProtocolError(code, "previous: expected a previous buffer or a result id, not both", ref)


def check_request(message: Message) -> None:
    """Check a decoded client → engine message: type, envelope, fields and buffer specs.

    Uses the standard library only; agrees with :data:`REQUEST_SCHEMAS` (the tests check
    this on valid and invalid examples) and adds the rules a schema cannot express: a raw
    buffer's size is width*height*channels, buffer names are unique, and ``refine``'s
    guide has the image's size.

    Parameters
    ----------
    message : Message
        A request (its payloads are not looked at).

    Raises
    ------
    ProtocolError
        See :func:`check_request_object`; ``ref`` is the message's id.
    """
    check_request_object(message.to_json())


def check_reply(message: Message) -> None:
    """Check an engine → client message (the client side's counterpart of :func:`check_request`)."""
    check_reply_object(message.to_json())
