"""The pieces the message schemas are built from: field schemas (ids, names, buffer specs, edge controls,
the common matting fields) and the builders of a request's, a reply's, an engine request's and an editor
answer's schema (the envelope and its ``$id``).

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .auth import KEY_ID_CHARACTERS, KEY_ID_MAX_LENGTH, NONCE_HEX
from .constants import (
    BUFFER_FORMATS, GUIDE_FORMATS, ID_CHARACTERS, ID_MAX_LENGTH, IMAGE_FORMATS, MAX_BUFFERS, OUTPUT_FORMATS,
    PHOTO_FORMATS, PRIORITIES, PROTOCOL_VERSION,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_BASE = "https://softcut.invalid/protocol/v2/"

ID: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": ID_MAX_LENGTH,
    "not": {"pattern": f"[^{ID_CHARACTERS}]"},
    "description": f"1 to {ID_MAX_LENGTH} characters from {ID_CHARACTERS}",
}
NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128}


def number_field(lo: float, hi: float, default: float, description: str) -> dict[str, Any]:
    """A number in [lo, hi] with its default."""
    return {"type": "number", "minimum": lo, "maximum": hi, "default": default, "description": description}


def enum_field(values: Sequence[str], default: str | None, description: str) -> dict[str, Any]:
    """One of ``values``, with its default (None: no default)."""
    out: dict[str, Any] = {"enum": list(values)}
    if default is not None:
        out["default"] = default
    out["description"] = description
    return out


WITHIN: dict[str, Any] = {
    "type": "array",
    "prefixItems": [{"type": "integer", "minimum": 0}, {"type": "integer", "minimum": 0},
                    {"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 1}],
    "items": False,
    "minItems": 4,
    "description": "grey8 only: [x, y, full_width, full_height]; the payload is the width x height rectangle at "
                   "(x, y) of a full_width x full_height image that is 0 everywhere else",
}


def buffer_spec(name: str | None, formats: Sequence[str], *, placeable: bool = False) -> dict[str, Any]:
    """A buffer spec called ``name`` (None: any name) in one of ``formats``; ``placeable``: it may carry
    ``within`` (a grey mask or matte sent as its box; an image the engine reads as colours may not)."""
    properties = {
        "name": {"const": name} if name else NAME,
        "format": {"enum": list(formats)},
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
        "size": {"type": "integer", "minimum": 1, "description": "bytes; width*height*channels for raw formats"},
    }
    if placeable:
        properties["within"] = WITHIN
    return {
        "type": "object",
        "required": ["name", "format", "width", "height", "size"],
        "properties": properties,
        "additionalProperties": False,
    }


BUFFER_SPEC = buffer_spec(None, BUFFER_FORMATS, placeable=True)
"""Any buffer spec (the envelope's ``buffers`` items)."""


def buffer_list(*specs: dict[str, Any]) -> dict[str, Any]:
    """A message's ``buffers``: exactly these specs, in this order."""
    return {"type": "array", "prefixItems": list(specs), "items": False, "minItems": len(specs)}


EDGES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "smooth": number_field(0, 100, 0, "rounds off jagged contours, 0–100"),
        "feather": number_field(0, 1000, 0, "Gaussian softening of the edge, sigma in pixels"),
        "contrast": number_field(0, 100, 0, "hardens soft edges, 0–100 % (100: binary at 0.5)"),
        "shift_edge": number_field(-100, 100, 0, "moves the edge outwards (+) or inwards (−), −100–100 %"),
    },
    "additionalProperties": False,
    "default": {},
    "description": "Select-and-Mask edge controls, applied in this order; the defaults change nothing",
}


def outputs_field(values: Sequence[str]) -> dict[str, Any]:
    """A request's ``outputs``: distinct names from ``values`` (default alpha)."""
    return {
        "type": "array",
        "items": {"enum": list(values)},
        "minItems": 1,
        "uniqueItems": True,
        "default": ["alpha"],
        "description": "the result buffers to send, in this order (buffer name = output name)",
    }


FORMAT = enum_field(OUTPUT_FORMATS, "raw", "encoding of the result buffers: raw pixels or PNG")
CROP_ALPHA: dict[str, Any] = {
    "type": "boolean",
    "description": "true, with raw format: the alpha buffer is only the box where the alpha is non-zero, its "
                   "`within` placing it in the image (0 outside it): less to send for a small object; absent, "
                   "false or png: the whole alpha. Engines that take it say `crop_alpha` in welcome's capabilities",
}
PRIORITY = enum_field(PRIORITIES, "interactive", "interactive jobs run before batch jobs")
DECONTAMINATE = number_field(0, 1, 1, "how much foreground colours are cleaned of the background")
BAND = number_field(0, 0.5, 0.015, "half-width of the automatic trimap's unknown band, fraction of sqrt(W*H)")
MODEL = {**NAME, "description": "a model from models.list that is present (or the default); absent: the engine's "
                                 "default model. Others are not_found"}


def request_schema(type_: str, description: str, properties: dict[str, Any], required: Sequence[str] = (),
                   buffers: dict[str, Any] | None = None, *, buffers_required: bool = True) -> dict[str, Any]:
    """A client → engine message's schema: the envelope, then ``properties``; no other fields."""
    props: dict[str, Any] = {"v": {"const": PROTOCOL_VERSION}, "type": {"const": type_}, "id": ID}
    req = ["v", "type", "id"]
    if buffers is not None:
        props["buffers"] = buffers
        if buffers_required:
            req.append("buffers")
    else:
        props["buffers"] = {"type": "array", "maxItems": 0, "description": "this request carries no buffers"}
    props.update(properties)
    return {
        "$schema": DRAFT,
        "$id": f"{_BASE}request/{type_}",
        "title": f"{type_} (client → engine)",
        "description": description,
        "type": "object",
        "required": req + list(required),
        "properties": props,
        "additionalProperties": False,
    }


def reply_schema(type_: str, description: str, properties: dict[str, Any], required: Sequence[str] = (),
                 *, ref: dict[str, Any] = ID, ref_required: bool = True, buffers: bool = False) -> dict[str, Any]:
    """An engine → client message's schema: the envelope with ``ref``, then ``properties`` (others allowed)."""
    props: dict[str, Any] = {"v": {"const": PROTOCOL_VERSION}, "type": {"const": type_}, "id": ID, "ref": ref}
    props["buffers"] = {"type": "array", "items": BUFFER_SPEC, "maxItems": MAX_BUFFERS if buffers else 0}
    props.update(properties)
    return {
        "$schema": DRAFT,
        "$id": f"{_BASE}reply/{type_}",
        "title": f"{type_} (engine → client)",
        "description": description,
        "type": "object",
        "required": ["v", "type", "id"] + (["ref"] if ref_required else []) + list(required),
        "properties": props,
    }


MODEL_INFO: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": NAME,
        "default": {"type": "boolean", "description": "the model requests without `model` use (softcut serve --model)"},
        "loaded": {"type": "boolean", "description": "in the engine's memory now (the default always; others while "
                                                    "recently used)"},
        "present": {
            "type": "boolean",
            "description": "its file is on the engine's machine (Softcut's cache or rembg's model folder)",
        },
        "licence": {"type": "string"},
        "description": {"type": "string"},
    },
}

IMAGE_SPEC = buffer_spec("image", IMAGE_FORMATS)
PHOTO_SPEC = buffer_spec("image", PHOTO_FORMATS)
GUIDE_SPEC = buffer_spec("guide", GUIDE_FORMATS, placeable=True)
PLATE_SPEC = buffer_spec("plate", PHOTO_FORMATS)
SAM_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128, "not": {"pattern": "[^A-Za-z0-9_.-]"}}
"""A Segment Anything model's name: the stem of its ``NAME.encoder.onnx`` and ``NAME.decoder.onnx``."""
OBJECT_BUFFERS: dict[str, Any] = {
    "type": "array",
    "items": {"anyOf": [PHOTO_SPEC, buffer_spec("mask", GUIDE_FORMATS, placeable=True),
                        buffer_spec("previous", GUIDE_FORMATS, placeable=True)]},
    "maxItems": 3,
    "description": "any of image, mask and previous, each at most once",
}
STREAM = {**ID, "description": "the id of the video_start request that opened the stream"}

CLIENT_INFO: dict[str, Any] = {
    "type": "object",
    "required": ["name", "version"],
    "properties": {"name": NAME, "version": {"type": "string", "maxLength": 64}},
    "additionalProperties": False,
}

KEY_ID: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": KEY_ID_MAX_LENGTH,
    "not": {"pattern": f"[^{KEY_ID_CHARACTERS}]"},
}
HEX256: dict[str, Any] = {"type": "string", "minLength": NONCE_HEX, "maxLength": NONCE_HEX, "not": {"pattern": "[^0-9a-f]"}}
"""A nonce or a proof: 32 bytes as 64 lowercase hex digits."""

NULLABLE_INT: dict[str, Any] = {"type": ["integer", "null"]}


def engine_request_schema(type_: str, description: str, properties: dict[str, Any], required: Sequence[str] = (),
                          buffers: dict[str, Any] | None = None) -> dict[str, Any]:
    """An engine → editor request's schema (as a request's, but later fields are allowed)."""
    schema = request_schema(type_, description, properties, required, buffers)
    schema["$id"] = f"{_BASE}engine-request/{type_}"
    schema["title"] = f"{type_} (engine → editor)"
    schema["additionalProperties"] = True  # later engine releases may add fields; editors ignore them
    return schema


def editor_reply_schema(type_: str, description: str, properties: dict[str, Any], required: Sequence[str] = (),
                        buffers: dict[str, Any] | None = None) -> dict[str, Any]:
    """An editor's answer to an engine request: a request's schema with the engine request's id as ``ref``."""
    schema = request_schema(type_, description, {"ref": {**ID, "description": "the engine request's id"}, **properties},
                            ["ref", *required], buffers)
    schema["$id"] = f"{_BASE}editor-reply/{type_}"
    schema["title"] = f"{type_} (editor → engine)"
    return schema


RECT: dict[str, Any] = {
    "type": "object",
    "required": ["x", "y", "width", "height"],
    "properties": {
        "x": {"type": "integer"},
        "y": {"type": "integer"},
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
    },
    "additionalProperties": False,
}
