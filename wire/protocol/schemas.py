"""The protocol v2 contract: constants, a JSON Schema per message type, and request checks.

The schemas (draft 2020-12, as plain dicts) are the documented contract; they are
rendered into ``docs/protocol.md`` by :func:`schemas_markdown`. :func:`check_request`
and :func:`check_reply` validate messages against them with a small interpreter of
the schema keywords used here (standard library only), then apply the rules a
schema cannot express (raw buffer sizes, the guide's size matching the image's).

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .auth import KEY_ID_CHARACTERS, KEY_ID_MAX_LENGTH, MASTER_KEY, NONCE_HEX
from .errors import ERROR_CODES, ERROR_DESCRIPTIONS, ProtocolError

if TYPE_CHECKING:  # pragma: no cover
    from .messages import Message

PROTOCOL_VERSION = 2
"""The protocol version: the envelope's ``v`` and ``hello.protocol`` (2: challenge–response handshake)."""
UPDATE_HINT = ("protocol 1 clients sent the token itself; this engine authenticates by challenge–response: update the "
               "plug-in (softcut install-plugin EDITOR) or the client to this engine's version")
"""Said to a client that speaks an older protocol."""

DEFAULT_PORT = 47841
"""The engine's default TCP port on 127.0.0.1 (``softcut serve --port`` changes it)."""

ID_MAX_LENGTH = 64
ID_CHARACTERS = "A-Za-z0-9_.:-"
"""Message ids: 1–64 characters from this set (regex class syntax)."""

RAW_CHANNELS: dict[str, int] = {"rgba8": 4, "rgb8": 3, "grey8": 1}
"""Bytes per pixel of each raw buffer format (8 bits per channel, row-major, top-down)."""

BUFFER_FORMATS: tuple[str, ...] = ("rgba8", "rgb8", "grey8", "png", "jpeg")
IMAGE_FORMATS: tuple[str, ...] = ("rgba8", "rgb8", "grey8", "png")
PHOTO_FORMATS: tuple[str, ...] = ("rgba8", "rgb8", "grey8", "png", "jpeg")
"""Buffers that may be a camera's JPEG: ``phone_cut.image``, ``phone_paste.photo``, ``select_subject.image``,
``plate_matte.image`` and ``plate_matte.plate``."""
SNAPSHOT_FORMATS: tuple[str, ...] = ("rgb8", "png")
GUIDE_FORMATS: tuple[str, ...] = ("grey8", "png")
OUTPUTS: tuple[str, ...] = ("alpha", "foreground", "cutout", "trimap", "coarse")
PLATE_OUTPUTS: tuple[str, ...] = (*OUTPUTS, "background")
REFINE_OUTPUTS: tuple[str, ...] = ("alpha", "foreground", "cutout")
VIDEO_OUTPUTS: tuple[str, ...] = ("alpha", "foreground", "cutout")
OUTPUT_FORMATS: tuple[str, ...] = ("raw", "png")
REFINE_MODES: tuple[str, ...] = ("none", "fast", "best")
GUIDES: tuple[str, ...] = ("trimap", "mask")
PRIORITIES: tuple[str, ...] = ("interactive", "batch")

OUTPUT_RAW_FORMAT: dict[str, str] = {
    "alpha": "grey8",
    "foreground": "rgb8",
    "cutout": "rgba8",
    "trimap": "grey8",
    "coarse": "grey8",
    "background": "rgb8",
}
"""The raw format of each output when a request asks for ``format: "raw"``."""

MAX_BUFFERS = 10
"""At most this many buffers in one message."""

DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_MAX_FRAME_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_TEXT_BYTES = 1024 * 1024
DEFAULT_MAX_QUEUED_PER_CLIENT = 16
DEFAULT_MAX_PENDING_FRAMES = 8
"""Frames one video stream may have received and not yet answered (``welcome.limits.max_pending_frames``)."""
DEFAULT_VIDEO_REFINE = "fast"
DEFAULT_SMOOTHING = 0.8

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_BASE = "https://softcut.invalid/protocol/v2/"

# ---------------------------------------------------------------- schema pieces

ID: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": ID_MAX_LENGTH,
    "not": {"pattern": f"[^{ID_CHARACTERS}]"},
    "description": f"1 to {ID_MAX_LENGTH} characters from {ID_CHARACTERS}",
}
NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128}


def _number(lo: float, hi: float, default: float, description: str) -> dict[str, Any]:
    return {"type": "number", "minimum": lo, "maximum": hi, "default": default, "description": description}


def _enum(values: Sequence[str], default: str | None, description: str) -> dict[str, Any]:
    out: dict[str, Any] = {"enum": list(values)}
    if default is not None:
        out["default"] = default
    out["description"] = description
    return out


def _buffer_spec(name: str | None, formats: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name", "format", "width", "height", "size"],
        "properties": {
            "name": {"const": name} if name else NAME,
            "format": {"enum": list(formats)},
            "width": {"type": "integer", "minimum": 1},
            "height": {"type": "integer", "minimum": 1},
            "size": {"type": "integer", "minimum": 1, "description": "bytes; width*height*channels for raw formats"},
        },
        "additionalProperties": False,
    }


BUFFER_SPEC = _buffer_spec(None, BUFFER_FORMATS)
"""Any buffer spec (the envelope's ``buffers`` items)."""


def _buffers(*specs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "prefixItems": list(specs), "items": False, "minItems": len(specs)}


EDGES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "smooth": _number(0, 100, 0, "rounds off jagged contours, 0–100"),
        "feather": _number(0, 1000, 0, "Gaussian softening of the edge, sigma in pixels"),
        "contrast": _number(0, 100, 0, "hardens soft edges, 0–100 % (100: binary at 0.5)"),
        "shift_edge": _number(-100, 100, 0, "moves the edge outwards (+) or inwards (−), −100–100 %"),
    },
    "additionalProperties": False,
    "default": {},
    "description": "Select-and-Mask edge controls, applied in this order; the defaults change nothing",
}


def _outputs(values: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"enum": list(values)},
        "minItems": 1,
        "uniqueItems": True,
        "default": ["alpha"],
        "description": "the result buffers to send, in this order (buffer name = output name)",
    }


SEGMENTS_MIN, SEGMENTS_MAX, DEFAULT_SEGMENTS = 2, 10, 5
SEGMENT_MASKS = ("stacked", "soft")
FORMAT = _enum(OUTPUT_FORMATS, "raw", "encoding of the result buffers: raw pixels or PNG")
PRIORITY = _enum(PRIORITIES, "interactive", "interactive jobs run before batch jobs")
DECONTAMINATE = _number(0, 1, 1, "how much foreground colours are cleaned of the background")
BAND = _number(0, 0.5, 0.015, "half-width of the automatic trimap's unknown band, fraction of sqrt(W*H)")
MODEL = {**NAME, "description": "a model from models.list that is present (or the default); absent: the engine's "
                                 "default model. Others are not_found"}


def _request(type_: str, description: str, properties: dict[str, Any], required: Sequence[str] = (),
             buffers: dict[str, Any] | None = None, *, buffers_required: bool = True) -> dict[str, Any]:
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


def _reply(type_: str, description: str, properties: dict[str, Any], required: Sequence[str] = (),
           *, ref: dict[str, Any] = ID, ref_required: bool = True, buffers: bool = False) -> dict[str, Any]:
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

_IMAGE = _buffer_spec("image", IMAGE_FORMATS)
_PHOTO_IMAGE = _buffer_spec("image", PHOTO_FORMATS)
_GUIDE = _buffer_spec("guide", GUIDE_FORMATS)
_PLATE = _buffer_spec("plate", PHOTO_FORMATS)
STREAM = {**ID, "description": "the id of the video_start request that opened the stream"}

CLIENT_INFO: dict[str, Any] = {
    "type": "object",
    "required": ["name", "version"],
    "properties": {"name": NAME, "version": {"type": "string", "maxLength": 64}},
    "additionalProperties": False,
}

PAIRING_CODE_DIGITS = 6
"""A pairing code (``pair.code``) is this many decimal digits."""
LINK_TOKEN_LENGTH = (20, 64)
"""A phone link's one-time token (``pair.code`` too) has this many URL-safe characters (min, max)."""

KEY_ID: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": KEY_ID_MAX_LENGTH,
    "not": {"pattern": f"[^{KEY_ID_CHARACTERS}]"},
}
HEX256: dict[str, Any] = {"type": "string", "minLength": NONCE_HEX, "maxLength": NONCE_HEX, "not": {"pattern": "[^0-9a-f]"}}
"""A nonce or a proof: 32 bytes as 64 lowercase hex digits."""
PAIRED_SCOPES: tuple[str, ...] = ("editor", "phone")
"""The scopes of the tokens pair hands out (the master token's scope is ``master``)."""

ENGINE_REQUEST_TYPES: tuple[str, ...] = ("place_layer", "canvas_snapshot")
"""Requests the engine sends to editors (``hello.accepts`` lists those a client handles)."""

PHONE_NAME_MAX = 256
DEFAULT_PREVIEW_MAX = 1024
DEFAULT_SNAPSHOT_MAX_SIDE = 1600
DEFAULT_LAYER_NAME = "Phone cut-out"
CUTOUT_FORMATS: tuple[str, ...] = ("png", "rgba8")
"""place_layer's cutout: a PNG file, or raw straight RGBA for editors that cannot decode PNG (UXP)."""

REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "hello": _request(
        "hello",
        "First message of a connection (or the first after pair): protocol version, who the client is, which key "
        "it holds and a fresh nonce. No secret: the engine answers challenge, proving it holds the key too.",
        {
            "protocol": {"type": "integer", "minimum": 1, "description": "the protocol version the client speaks"},
            "client": CLIENT_INFO,
            "key": {**KEY_ID, "description": f"{MASTER_KEY!r} for the token file's token, else a paired token's id"},
            "nonce": {**HEX256, "description": "32 random bytes, fresh for this connection"},
            "accepts": {
                "type": "array",
                "items": {"enum": list(ENGINE_REQUEST_TYPES)},
                "uniqueItems": True,
                "default": [],
                "description": "engine-initiated requests this client answers; place_layer makes it an editor connection",
            },
            "cutout_format": _enum(CUTOUT_FORMATS, "png", "the buffer format this editor wants place_layer's cutout in"),
        },
        ["protocol", "client", "key", "nonce"],
    ),
    "auth": _request(
        "auth",
        "Answer to challenge (ref = the challenge's id), once its proof checked out: the client's proof that it "
        "holds the key. The engine answers welcome, or unauthorized and closes.",
        {
            "ref": {**ID, "description": "the challenge's id"},
            "proof": {**HEX256, "description": "HMAC-SHA256(secret, \"softcut-client-proof\\n\" + hello.nonce + "
                                              "\"\\n\" + challenge.nonce), hex"},
        },
        ["ref", "proof"],
    ),
    "pair": _request(
        "pair",
        "Before hello, for clients that cannot read the token file: trade the pairing code `softcut serve` "
        "prints (or a phone link's one-time token) for a scoped token of the client's own.",
        {
            "code": {
                "anyOf": [
                    {
                        "type": "string",
                        "minLength": PAIRING_CODE_DIGITS,
                        "maxLength": PAIRING_CODE_DIGITS,
                        "not": {"pattern": "[^0-9]"},
                        "description": f"{PAIRING_CODE_DIGITS} digits, as `softcut serve` prints them",
                    },
                    {
                        "type": "string",
                        "minLength": LINK_TOKEN_LENGTH[0],
                        "maxLength": LINK_TOKEN_LENGTH[1],
                        "not": {"pattern": "[^A-Za-z0-9_-]"},
                        "description": "a phone link's one-time token (URL-safe characters)",
                    },
                ],
            },
            "client": CLIENT_INFO,
        },
        ["code", "client"],
    ),
    "select_subject": _request(
        "select_subject",
        "Cut out the image's main subject (one job).",
        {
            "outputs": _outputs(OUTPUTS),
            "format": FORMAT,
            "refine": _enum(REFINE_MODES, "best", "none: model output; fast: guided filter; best: matting solver"),
            "edges": EDGES,
            "decontaminate": DECONTAMINATE,
            "band": BAND,
            "priority": PRIORITY,
            "model": MODEL,
        },
        buffers=_buffers(_PHOTO_IMAGE),
    ),
    "plate_matte": _request(
        "plate_matte",
        "Select Subject helped by a clean plate: a second photo of the same scene without the subject, taken by "
        "hand from about the same spot (one job). The plate is aligned to the image (homography, then exposure); "
        "a plate that cannot be aligned is error alignment_failed.",
        {
            "outputs": _outputs(PLATE_OUTPUTS),
            "format": FORMAT,
            "refine": _enum(REFINE_MODES, "best", "none: the plate's own estimate; fast: guided filter; "
                            "best: matting solver with the known background"),
            "edges": EDGES,
            "decontaminate": DECONTAMINATE,
            "band": BAND,
            "priority": PRIORITY,
            "model": MODEL,
        },
        buffers=_buffers(_PHOTO_IMAGE, _PLATE),
    ),
    "trimap": _request(
        "trimap",
        "The automatic trimap around the image's subject (one job): a grey8 buffer named trimap, "
        "0 background, 128 unknown, 255 foreground.",
        {"band": BAND, "format": FORMAT, "priority": PRIORITY, "model": MODEL},
        buffers=_buffers(_IMAGE),
    ),
    "soft_segments": _request(
        "soft_segments",
        "Decompose the image into `count` soft layers whose alphas sum to one (one job): buffers segment0… "
        "(rgba8 raw or PNG, the input's size), largest first, each the layer's decontaminated colours and its mask.",
        {
            "count": {"type": "integer", "minimum": SEGMENTS_MIN, "maximum": SEGMENTS_MAX,
                      "default": DEFAULT_SEGMENTS, "description": "how many layers"},
            "masks": _enum(SEGMENT_MASKS, "stacked",
                           "stacked: each layer's mask is its share of what lies under it, so the layers stacked "
                           "bottom (segment0) to top with normal blending give back the image; soft: each "
                           "segment's own alpha (the alphas sum to one)"),
            "format": FORMAT,
            "priority": PRIORITY,
            "model": MODEL,
        },
        buffers=_buffers(_IMAGE),
    ),
    "refine": _request(
        "refine",
        "Refine a given trimap or rough mask into a soft alpha (one job). The guide has the image's size.",
        {
            "guide": _enum(GUIDES, "trimap", "trimap: 0 bg, 255 fg, other values unknown; mask: rough alpha 0–255"),
            "mode": _enum(("fast", "best"), "best", "fast: guided filter; best: matting solver"),
            "outputs": _outputs(REFINE_OUTPUTS),
            "format": FORMAT,
            "priority": PRIORITY,
        },
        buffers=_buffers(_IMAGE, _GUIDE),
    ),
    "adjust_edges": _request(
        "adjust_edges",
        "Re-apply edge controls and decontamination to a cached result, without re-running the model (one job).",
        {
            "result": {**ID, "description": "the `result` id of an earlier result on this connection"},
            "edges": EDGES,
            "decontaminate": DECONTAMINATE,
            "outputs": _outputs(REFINE_OUTPUTS),
            "format": FORMAT,
            "priority": PRIORITY,
        },
        ["result"],
    ),
    "models.list": _request("models.list", "List the models the engine can run.", {}),
    "status": _request("status", "Ask for the engine's state.", {}),
    "cancel": _request(
        "cancel",
        "Cancel a queued or running job of this connection.",
        {"job": {**ID, "description": "the id of the request that started the job"}},
        ["job"],
    ),
    "phone_cut": _request(
        "phone_cut",
        "Cut out the subject of a phone's photo (one job): a quick preview back, the full-resolution cut-out "
        "kept by the engine (staged in its outbox) for phone_paste.",
        {
            "preview_max": {
                "type": "integer",
                "minimum": 16,
                "maximum": 8192,
                "default": DEFAULT_PREVIEW_MAX,
                "description": "longest side of the preview, pixels",
            },
            "priority": PRIORITY,
        },
        buffers=_buffers(_PHOTO_IMAGE),
    ),
    "phone_paste": _request(
        "phone_paste",
        "Paste a phone_cut's cut-out into an editor where the photo of its screen points (one job).",
        {
            "cut": {**ID, "description": "the `cut` id of a phone_cut result"},
            "target": {**NAME, "description": "an editor connection's client name; absent: the last active editor"},
            "name": {"type": "string", "minLength": 1, "maxLength": PHONE_NAME_MAX, "default": DEFAULT_LAYER_NAME,
                     "description": "the new layer's name"},
            "priority": PRIORITY,
        },
        ["cut"],
        buffers=_buffers(_buffer_spec("photo", PHOTO_FORMATS)),
    ),
    "phone_link": _request(
        "phone_link",
        "Ask for the phone's pairing URL (with a one-time token) and its QR code; not_found without --lan.",
        {},
    ),
    "video_start": _request(
        "video_start",
        "Open a video stream (one job): send its frames with video_frame, then video_end. Each frame is answered "
        "by a frame message, in order, one frame late (the temporal filter looks one frame ahead); the job ends "
        "with a result {frames, timings, device} without buffers. Optional buffer `plate`: a clean plate of the "
        "scene (an rgba8 plate's transparent pixels are not plate), aligned to every frame; a frame it cannot be "
        "aligned to is matted without it (counted in the result's frames_without_plate).",
        {
            "outputs": _outputs(VIDEO_OUTPUTS),
            "format": FORMAT,
            "refine": _enum(REFINE_MODES, DEFAULT_VIDEO_REFINE,
                            "per-frame refinement: none, fast (guided filter) or best (matting solver)"),
            "edges": EDGES,
            "decontaminate": DECONTAMINATE,
            "band": BAND,
            "delay": {"type": "boolean", "default": True,
                      "description": "one-frame-delay correction of lone flickers (MODNet's)"},
            "smoothing": {"type": "number", "minimum": 0, "maximum": 1, "exclusiveMaximum": 1, "default": DEFAULT_SMOOTHING,
                          "description": "the motion-compensated previous matte's share where it is trusted, "
                                         "[0, 1); 0: off"},
            "priority": PRIORITY,
            "model": MODEL,
        },
        buffers={"type": "array", "prefixItems": [_PLATE], "items": False, "maxItems": 1},
        buffers_required=False,
    ),
    "video_frame": _request(
        "video_frame",
        "The next frame of a video stream (numbered in arrival order from 0; frames must all have the first "
        "frame's size). Answered only by its frame message later, or by an error about it.",
        {"stream": STREAM},
        ["stream"],
        buffers=_buffers(_PHOTO_IMAGE),
    ),
    "video_end": _request(
        "video_end",
        "No more frames: the engine answers the frame it still holds, then ends the stream's job with result.",
        {"stream": STREAM},
        ["stream"],
    ),
}
"""Client → engine messages, by type."""

REPLY_SCHEMAS: dict[str, dict[str, Any]] = {
    "paired": _reply(
        "paired",
        "Answer to pair: the code was right; the engine made a scoped, revocable token for this client. Keep "
        "`credential` and send hello with its id as key (on this connection or any later one).",
        {
            "credential": {"type": "string", "minLength": 3, "maxLength": 256,
                           "description": "\"<id>.<secret>\": the token's id (hello.key) and its secret (never sent)"},
            "scope": {"enum": list(PAIRED_SCOPES), "description": "editor (pairing code) or phone (phone link)"},
        },
        ["credential", "scope"],
    ),
    "challenge": _reply(
        "challenge",
        "Answer to hello (ref): the engine's nonce and its proof that it holds the key. A client that finds the "
        "proof wrong closes the connection and sends nothing more; else it answers auth.",
        {
            "nonce": {**HEX256, "description": "32 random bytes, fresh for this connection"},
            "proof": {**HEX256, "description": "HMAC-SHA256(secret, \"softcut-engine-proof\\n\" + hello.nonce + "
                                              "\"\\n\" + nonce), hex"},
        },
        ["nonce", "proof"],
    ),
    "welcome": _reply(
        "welcome",
        "Answer to hello: the handshake succeeded.",
        {
            "protocol": {"const": PROTOCOL_VERSION},
            "engine": {
                "type": "object",
                "required": ["name", "version"],
                "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
            },
            "device": {"type": "string", "description": "where inference runs, e.g. cpu, cuda"},
            "models": {"type": "array", "items": MODEL_INFO},
            "capabilities": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the request types this engine accepts",
            },
            "limits": {
                "type": "object",
                "required": ["max_pixels", "max_frame_bytes", "max_queued_per_client"],
                "properties": {
                    "max_pixels": {"type": "integer", "minimum": 1},
                    "max_frame_bytes": {"type": "integer", "minimum": 1},
                    "max_text_bytes": {"type": "integer", "minimum": 1},
                    "max_queued_per_client": {"type": "integer", "minimum": 1},
                    "max_pending_frames": {"type": "integer", "minimum": 1,
                                           "description": "frames a video stream may have unanswered"},
                },
            },
        },
        ["protocol", "engine", "device", "models", "capabilities", "limits"],
    ),
    "accepted": _reply(
        "accepted",
        "A job was queued.",
        {"position": {"type": "integer", "minimum": 0, "description": "jobs ahead of it (0: runs next or now)"}},
        ["position"],
    ),
    "progress": _reply(
        "progress",
        "A running job's progress; fraction never decreases.",
        {"fraction": {"type": "number", "minimum": 0, "maximum": 1}, "stage": {"type": "string"}},
        ["fraction", "stage"],
    ),
    "result": _reply(
        "result",
        "A job finished: one buffer per requested output, in the order asked.",
        {
            "result": {**ID, "description": "id of the cached result, usable by adjust_edges"},
            "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "low_confidence": {"type": "boolean"},
            "timings": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
            "device": {"type": "string"},
            "model": {"type": "string", "description": "the model that ran (jobs that run one)"},
            "alignment": {
                "type": "object",
                "description": "plate_matte: how the plate was aligned (features matched and agreeing, share of "
                               "the image covered, share reproduced, noise, per-channel linear-light gain and bias)",
            },
            "frames": {"type": "integer", "minimum": 0, "description": "video_start: how many frames were answered"},
        },
        ["result"],
        buffers=True,
    ),
    "frame": _reply(
        "frame",
        "One finished frame of a video stream (ref: the video_start's id), in index order: one buffer per "
        "requested output, named after it, in the order asked.",
        {
            "index": {"type": "integer", "minimum": 0, "description": "the frame's place in the stream, from 0"},
            "frame": {**ID, "description": "the id of the video_frame that carried it"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1, "description": "the model's, for this frame"},
        },
        ["index", "frame", "buffers"],
        buffers=True,
    ),
    "error": _reply(
        "error",
        "A request failed, or a message could not be read (then ref is null or absent).",
        {"code": {"enum": list(ERROR_CODES)}, "message": {"type": "string"}},
        ["code", "message"],
        ref={"anyOf": [ID, {"type": "null"}]},
        ref_required=False,
    ),
    "cancelled": _reply(
        "cancelled",
        "A job was cancelled (ref: the job's request id; by: the cancel request's id).",
        {"by": ID},
    ),
    "models": _reply(
        "models",
        "Answer to models.list.",
        {"models": {"type": "array", "items": MODEL_INFO}},
        ["models"],
    ),
    "status": _reply(
        "status",
        "Answer to status.",
        {
            "device": {"type": "string"},
            "model": {"type": "string"},
            "jobs": {
                "type": "object",
                "properties": {
                    "queued": {"type": "integer", "minimum": 0},
                    "running": {"type": "integer", "minimum": 0},
                },
            },
            "jobs_done": {"type": "integer", "minimum": 0},
            "clients": {"type": "integer", "minimum": 0},
            "uptime_s": {"type": "number", "minimum": 0},
            "cache_bytes": {"type": "integer", "minimum": 0},
            "memory": {
                "type": "object",
                "description": "The memory budget in bytes (`softcut serve --memory`): `memory` is split between "
                "`jobs` (jobs are admitted while their estimated peaks fit) and `caches` (the result caches' cap); "
                "the model's own memory is on top. `in_use`: what running jobs hold now; `peak_in_use`: the most "
                "they held at once; `waiting`: jobs waiting for memory.",
                "properties": {key: {"type": "integer", "minimum": 0}
                               for key in ("memory", "jobs", "caches", "in_use", "peak_in_use", "waiting")},
            },
        },
        ["device", "jobs"],
    ),
    "phone_link": _reply(
        "phone_link",
        "Answer to phone_link: the URL the phone opens, and one buffer `qr` (png): its QR code.",
        {"url": {"type": "string", "minLength": 1, "description": "http://<lan ip>:<port>/phone#t=<one-time token>"}},
        ["url", "buffers"],
        buffers=True,
    ),
}
"""Engine → client messages (replies and events), by type."""

NULLABLE_INT: dict[str, Any] = {"type": ["integer", "null"]}


def _engine_request(type_: str, description: str, properties: dict[str, Any], required: Sequence[str] = (),
                    buffers: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = _request(type_, description, properties, required, buffers)
    schema["$id"] = f"{_BASE}engine-request/{type_}"
    schema["title"] = f"{type_} (engine → editor)"
    schema["additionalProperties"] = True  # later engine releases may add fields; editors ignore them
    return schema


def _editor_reply(type_: str, description: str, properties: dict[str, Any], required: Sequence[str] = (),
                  buffers: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = _request(type_, description, {"ref": {**ID, "description": "the engine request's id"}, **properties},
                      ["ref", *required], buffers)
    schema["$id"] = f"{_BASE}editor-reply/{type_}"
    schema["title"] = f"{type_} (editor → engine)"
    return schema


ENGINE_REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "canvas_snapshot": _engine_request(
        "canvas_snapshot",
        "The engine asks an editor (hello.accepts canvas_snapshot) for its active document as displayed; "
        "answered by snapshot or error not_found (no document open).",
        {"max_side": {"type": "integer", "minimum": 16, "default": DEFAULT_SNAPSHOT_MAX_SIDE,
                      "description": "longest side of the snapshot image, pixels"}},
    ),
    "place_layer": _engine_request(
        "place_layer",
        "The engine asks an editor (hello.accepts place_layer) to insert a cut-out as a new layer of its active "
        "document, as one undo step; answered by placed. A delivery id seen before is answered ok without placing.",
        {
            "delivery": {**ID, "description": "the outbox id; editors remember the ones they placed"},
            "name": {"type": "string", "minLength": 1, "maxLength": PHONE_NAME_MAX, "description": "the layer's name"},
            "x": {**NULLABLE_INT, "description": "document pixels of the cut-out's left edge; null: centre it"},
            "y": {**NULLABLE_INT, "description": "document pixels of the cut-out's top edge; null: centre it"},
        },
        ["delivery", "name", "x", "y"],
        buffers=_buffers(_buffer_spec("cutout", CUTOUT_FORMATS)),
    ),
}
"""Engine → editor requests (ids are the engine's own), by type."""

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

EDITOR_REPLY_SCHEMAS: dict[str, dict[str, Any]] = {
    "snapshot": _editor_reply(
        "snapshot",
        "Answer to canvas_snapshot: the document's full size, where its canvas is on the screen (or null), and "
        "one buffer `image` (rgb8 or png): the composite as displayed, longest side <= max_side.",
        {
            "document": {
                "type": "object",
                "required": ["width", "height"],
                "properties": {"width": {"type": "integer", "minimum": 1}, "height": {"type": "integer", "minimum": 1}},
                "additionalProperties": False,
            },
            "view": {"anyOf": [RECT, {"type": "null"}],
                     "description": "the whole document's rectangle on the screen at the current zoom and pan, "
                                    "screen pixels (may reach beyond the window); null when the editor cannot tell"},
        },
        ["document"],
        buffers=_buffers(_buffer_spec("image", SNAPSHOT_FORMATS)),
    ),
    "placed": _editor_reply(
        "placed",
        "Answer to place_layer: whether the layer is in the document (ok also for a delivery placed before).",
        {
            "delivery": {**ID, "description": "the place_layer's delivery id"},
            "ok": {"type": "boolean"},
            "message": {"type": "string", "maxLength": 1024},
        },
        ["delivery", "ok"],
    ),
    "error": _editor_reply(
        "error",
        "An editor could not answer an engine request (not_found: no document open).",
        {"code": {"enum": list(ERROR_CODES)}, "message": {"type": "string", "maxLength": 1024}},
        ["code", "message"],
    ),
}
"""Editor → engine answers to engine requests (ref = the engine request's id), by type."""

REQUEST_TYPES: tuple[str, ...] = tuple(REQUEST_SCHEMAS)
REPLY_TYPES: tuple[str, ...] = tuple(REPLY_SCHEMAS)
EDITOR_REPLY_TYPES: tuple[str, ...] = tuple(EDITOR_REPLY_SCHEMAS)
JOB_TYPES: tuple[str, ...] = ("select_subject", "plate_matte", "trimap", "refine", "adjust_edges", "soft_segments",
                               "phone_cut", "phone_paste", "video_start")
"""Requests that become queued jobs (answered by accepted, progress…, then result, error or cancelled)."""
STREAM_TYPES: tuple[str, ...] = ("video_frame", "video_end")
"""Requests that feed a running video stream (field ``stream``): no job of their own."""

SUPPORTED_KEYWORDS = frozenset(
    {
        "$schema", "$id", "title", "description", "default",
        "type", "const", "enum", "not", "anyOf",
        "minimum", "maximum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
        "minItems", "maxItems", "uniqueItems", "items", "prefixItems",
        "required", "properties", "additionalProperties",
    }
)
"""The JSON Schema keywords the standard-library validator understands (all this module uses)."""

# ---------------------------------------------------------------- the validator


class SchemaViolation(Exception):
    """An instance does not satisfy a schema at ``path`` (e.g. ``edges.feather``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or '(message)'}: {problem}")
        self.path = path
        self.problem = problem


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _has_type(value: Any, name: str) -> bool:
    actual = _json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == name


def _json_equal(a: Any, b: Any) -> bool:
    ta, tb = _json_type(a), _json_type(b)
    if ta in ("integer", "number") and tb in ("integer", "number"):
        return a == b
    if ta != tb:
        return False
    if ta == "array":
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if ta == "object":
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return a == b


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_ARTICLE = {"integer": "an integer", "array": "an array", "object": "an object", "null": "null"}


def validate(instance: Any, schema: Mapping[str, Any] | bool, *, path: str = "") -> None:
    """Check ``instance`` against ``schema`` (the keywords in :data:`SUPPORTED_KEYWORDS`).

    Parameters
    ----------
    instance : Any
        Decoded JSON (dicts, lists, str, int, float, bool, None; tuples count as arrays).
    schema : Mapping or bool
        A schema from this module.
    path : str, optional
        The instance's location, used in error messages.

    Raises
    ------
    SchemaViolation
        At the first violation found, naming the path, what was expected and what came.
    """
    if schema is True:
        return
    if schema is False:
        raise SchemaViolation(path, "not allowed here")
    kind = _json_type(instance)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_has_type(instance, n) for n in names):
            want = " or ".join(_ARTICLE.get(n, f"a {n}") for n in names)
            raise SchemaViolation(path, f"expected {want}; got {_show(instance)}")
    if "const" in schema and not _json_equal(instance, schema["const"]):
        raise SchemaViolation(path, f"expected {_show(schema['const'])}; got {_show(instance)}")
    if "enum" in schema and not any(_json_equal(instance, v) for v in schema["enum"]):
        choices = ", ".join(_show(v) for v in schema["enum"])
        raise SchemaViolation(path, f"expected one of {choices}; got {_show(instance)}")
    if kind in ("integer", "number"):
        lo, hi, below = schema.get("minimum"), schema.get("maximum"), schema.get("exclusiveMaximum")
        if (lo is not None and instance < lo) or (hi is not None and instance > hi) or \
                (below is not None and instance >= below):
            if lo is not None and below is not None:
                want = f"a value in [{lo:g}, {below:g})"
            elif below is not None:
                want = f"a value < {below:g}"
            elif lo is not None and hi is not None:
                want = f"a value in [{lo:g}, {hi:g}]"
            else:
                want = f"a value >= {lo:g}" if lo is not None else f"a value <= {hi:g}"
            raise SchemaViolation(path, f"expected {want}; got {_show(instance)}")
    if kind == "string":
        if len(instance) < schema.get("minLength", 0):
            raise SchemaViolation(path, f"expected at least {schema['minLength']} character(s); got {_show(instance)}")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            raise SchemaViolation(path, f"expected at most {schema['maxLength']} characters; got {_show(instance)}")
        if "pattern" in schema and re.search(schema["pattern"], instance) is None:
            raise SchemaViolation(path, f"expected a match of {schema['pattern']!r}; got {_show(instance)}")
    if kind == "array":
        _validate_array(instance, schema, path)
    if kind == "object":
        _validate_object(instance, schema, path)
    if "not" in schema:
        try:
            validate(instance, schema["not"], path=path)
        except SchemaViolation:
            pass
        else:
            want = schema.get("description", "something else")
            raise SchemaViolation(path, f"expected {want}; got {_show(instance)}")
    if "anyOf" in schema:
        problems = []
        for option in schema["anyOf"]:
            try:
                validate(instance, option, path=path)
                break
            except SchemaViolation as exc:
                problems.append(exc.problem)
        else:
            raise SchemaViolation(path, " or ".join(problems))


def _validate_array(instance: Sequence[Any], schema: Mapping[str, Any], path: str) -> None:
    n = len(instance)
    if n < schema.get("minItems", 0):
        raise SchemaViolation(path, f"expected at least {schema['minItems']} item(s); got {n}")
    if "maxItems" in schema and n > schema["maxItems"]:
        raise SchemaViolation(path, f"expected at most {schema['maxItems']} item(s); got {n}")
    prefix = schema.get("prefixItems", [])
    for i, item in enumerate(instance):
        if i < len(prefix):
            validate(item, prefix[i], path=_join(path, i))
        elif "items" in schema:
            if schema["items"] is False:
                raise SchemaViolation(path, f"expected {len(prefix)} item(s); got {n}")
            validate(item, schema["items"], path=_join(path, i))
    if schema.get("uniqueItems"):
        for i in range(n):
            for j in range(i):
                if _json_equal(instance[i], instance[j]):
                    raise SchemaViolation(_join(path, i), f"duplicate of item {j}: {_show(instance[i])}")


def _validate_object(instance: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> None:
    for key in schema.get("required", []):
        if key not in instance:
            raise SchemaViolation(_join(path, key), "required field is missing")
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in instance.items():
        if key in props:
            validate(value, props[key], path=_join(path, key))
        elif extra is False:
            raise SchemaViolation(_join(path, key), "unknown field")
        else:
            validate(value, extra, path=_join(path, key))


# ---------------------------------------------------------------- checks used by the codec and the server

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
        raise ProtocolError("unknown_type", f"type: expected one of {', '.join(REQUEST_TYPES)}; got {_show(type_)}", ref)
    if type_ == "hello" and _has_type(obj.get("protocol"), "integer") and obj["protocol"] != PROTOCOL_VERSION:
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
        raise ProtocolError("unknown_type", f"type: expected one of {', '.join(REPLY_TYPES)}; got {_show(type_)}", ref)
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
    if obj.get("type") == "refine" and len(specs) == 2:
        image, guide = specs
        if (guide["width"], guide["height"]) != (image["width"], image["height"]):
            raise ProtocolError(
                code,
                f"buffers[1]: expected the guide to be {image['width']}x{image['height']} like the image; "
                f"got {guide['width']}x{guide['height']}",
                ref,
            )


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


def defaults(type_: str) -> dict[str, Any]:
    """The documented defaults of a request type's optional fields.

    Parameters
    ----------
    type_ : str
        A request type.

    Returns
    -------
    dict
        Field → default (``edges`` expanded to its four controls); fields with no
        default (such as ``model``: the engine's loaded model) are absent.

    Raises
    ------
    ValueError
        If ``type_`` is not a request type.
    """
    if type_ not in REQUEST_SCHEMAS:
        raise ValueError(f"type_: expected one of {', '.join(REQUEST_TYPES)}; got {type_!r}")
    out: dict[str, Any] = {}
    for key, prop in REQUEST_SCHEMAS[type_]["properties"].items():
        if key == "edges":
            out[key] = {name: p["default"] for name, p in prop["properties"].items()}
        elif "default" in prop:
            out[key] = json.loads(json.dumps(prop["default"]))
    return out


def with_defaults(message: Message) -> dict[str, Any]:
    """A request's fields with every absent optional field set to its default.

    Parameters
    ----------
    message : Message
        A request that passed :func:`check_request`.

    Returns
    -------
    dict
        A new dict (the message is not changed); ``edges`` is completed control by control.
    """
    out = defaults(message.type)
    for key, value in message.fields.items():
        if key == "edges" and isinstance(value, Mapping):
            out[key] = {**out["edges"], **value}
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- documentation


def _pretty(value: Any, indent: int = 0, width: int = 100) -> str:
    """JSON with nested containers on one line when they fit in ``width`` columns."""
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or len(flat) + indent <= width or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {_pretty(v, indent + 2, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + _pretty(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def schemas_markdown() -> str:
    """The schema reference section of ``docs/protocol.md`` (the doc must contain it verbatim)."""
    parts = []
    tables = (
        ("Client → engine", REQUEST_SCHEMAS),
        ("Engine → client", REPLY_SCHEMAS),
        ("Engine → editor (engine requests)", ENGINE_REQUEST_SCHEMAS),
        ("Editor → engine (answers to engine requests)", EDITOR_REPLY_SCHEMAS),
    )
    for direction, table in tables:
        parts.append(f"### {direction}\n")
        for type_, schema in table.items():
            parts.append(f"#### `{type_}`\n\n{schema['description']}\n\n```json schema\n{_pretty(schema)}\n```\n")
    return "\n".join(parts)


def error_codes_markdown() -> str:
    """The error code table of ``docs/protocol.md`` (the doc must contain it verbatim)."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| `{code}` | {ERROR_DESCRIPTIONS[code]} |" for code in ERROR_CODES]
    return "\n".join(rows) + "\n"
