"""The engine's messages: a JSON Schema (draft 2020-12, as a plain dict) per reply and event type
(engine → client), per engine request (engine → editor) and per editor answer (editor → engine).

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

from typing import Any

from .constants import (
    CUTOUT_FORMATS, DEFAULT_SNAPSHOT_MAX_SIDE, PAIRED_SCOPES, PHONE_NAME_MAX, PROTOCOL_VERSION, SNAPSHOT_FORMATS,
)
from .errors import ERROR_CODES
from .schema_parts import (
    HEX256, ID, MODEL_INFO, NULLABLE_INT, RECT, buffer_list, buffer_spec, editor_reply_schema, engine_request_schema,
    reply_schema,
)

REPLY_SCHEMAS: dict[str, dict[str, Any]] = {
    "paired": reply_schema(
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
    "challenge": reply_schema(
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
    "welcome": reply_schema(
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
    "accepted": reply_schema(
        "accepted",
        "A job was queued.",
        {"position": {"type": "integer", "minimum": 0, "description": "jobs ahead of it (0: runs next or now)"}},
        ["position"],
    ),
    "progress": reply_schema(
        "progress",
        "A running job's progress; fraction never decreases.",
        {"fraction": {"type": "number", "minimum": 0, "maximum": 1}, "stage": {"type": "string"}},
        ["fraction", "stage"],
    ),
    "result": reply_schema(
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
            "image": {**HEX256, "description": "select_object: the key the prepared image is kept under, for the "
                                               "next request on the same image"},
            "prepared": {"type": "boolean", "description": "select_object: whether the image was prepared for this "
                                                          "request (false: it was kept from an earlier one)"},
        },
        ["result"],
        buffers=True,
    ),
    "frame": reply_schema(
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
    "error": reply_schema(
        "error",
        "A request failed, or a message could not be read (then ref is null or absent).",
        {"code": {"enum": list(ERROR_CODES)}, "message": {"type": "string"}},
        ["code", "message"],
        ref={"anyOf": [ID, {"type": "null"}]},
        ref_required=False,
    ),
    "cancelled": reply_schema(
        "cancelled",
        "A job was cancelled (ref: the job's request id; by: the cancel request's id).",
        {"by": ID},
    ),
    "models": reply_schema(
        "models",
        "Answer to models.list.",
        {"models": {"type": "array", "items": MODEL_INFO},
         "sam": {"type": "array", "items": {"type": "string"},
                 "description": "the Segment Anything models found in rembg's folder, for select_object's `sam`"}},
        ["models"],
    ),
    "status": reply_schema(
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
    "phone_link": reply_schema(
        "phone_link",
        "Answer to phone_link: the URL the phone opens, and one buffer `qr` (png): its QR code.",
        {"url": {"type": "string", "minLength": 1, "description": "http://<lan ip>:<port>/phone#t=<one-time token>"}},
        ["url", "buffers"],
        buffers=True,
    ),
}
"""Engine → client messages (replies and events), by type."""

ENGINE_REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "canvas_snapshot": engine_request_schema(
        "canvas_snapshot",
        "The engine asks an editor (hello.accepts canvas_snapshot) for its active document as displayed; "
        "answered by snapshot or error not_found (no document open).",
        {"max_side": {"type": "integer", "minimum": 16, "default": DEFAULT_SNAPSHOT_MAX_SIDE,
                      "description": "longest side of the snapshot image, pixels"}},
    ),
    "place_layer": engine_request_schema(
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
        buffers=buffer_list(buffer_spec("cutout", CUTOUT_FORMATS)),
    ),
}
"""Engine → editor requests (ids are the engine's own), by type."""

EDITOR_REPLY_SCHEMAS: dict[str, dict[str, Any]] = {
    "snapshot": editor_reply_schema(
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
        buffers=buffer_list(buffer_spec("image", SNAPSHOT_FORMATS)),
    ),
    "placed": editor_reply_schema(
        "placed",
        "Answer to place_layer: whether the layer is in the document (ok also for a delivery placed before).",
        {
            "delivery": {**ID, "description": "the place_layer's delivery id"},
            "ok": {"type": "boolean"},
            "message": {"type": "string", "maxLength": 1024},
        },
        ["delivery", "ok"],
    ),
    "error": editor_reply_schema(
        "error",
        "An editor could not answer an engine request (not_found: no document open).",
        {"code": {"enum": list(ERROR_CODES)}, "message": {"type": "string", "maxLength": 1024}},
        ["code", "message"],
    ),
}
"""Editor → engine answers to engine requests (ref = the engine request's id), by type."""

REPLY_TYPES: tuple[str, ...] = tuple(REPLY_SCHEMAS)
EDITOR_REPLY_TYPES: tuple[str, ...] = tuple(EDITOR_REPLY_SCHEMAS)
