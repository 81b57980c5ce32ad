"""The client → engine messages: a JSON Schema (draft 2020-12, as a plain dict) per request type,
and the defaults they document for the optional fields (:func:`defaults`, :func:`with_defaults`): the one
place the engine, the client and the ``softcut`` command take them from.

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .auth import MASTER_KEY
from .constants import (
    CUTOUT_FORMATS, DEFAULT_LAYER_NAME, DEFAULT_PREVIEW_MAX, DEFAULT_SEGMENTS, DEFAULT_SMOOTHING,
    DEFAULT_VIDEO_REFINE, ENGINE_REQUEST_TYPES, GUIDES, OBJECT_MODES, OBJECT_POINTS_MAX, LINK_TOKEN_LENGTH, OUTPUTS, PAIRING_CODE_DIGITS,
    PHONE_NAME_MAX, PHOTO_FORMATS, PLATE_OUTPUTS, REFINE_MODES, REFINE_OUTPUTS, SEGMENT_MASKS, SEGMENTS_MAX,
    SEGMENTS_MIN, VIDEO_OUTPUTS,
)
from .schema_parts import (
    BAND, CLIENT_INFO, CROP_ALPHA, DECONTAMINATE, EDGES, FORMAT, GUIDE_SPEC, HEX256, ID, IMAGE_SPEC, KEY_ID, MODEL, NAME,
    OBJECT_BUFFERS, PHOTO_SPEC, PLATE_SPEC, PRIORITY, SAM_NAME, STREAM, buffer_list, buffer_spec, enum_field, outputs_field, request_schema,
)

if TYPE_CHECKING:  # pragma: no cover
    from .messages import Message

REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "hello": request_schema(
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
            "cutout_format": enum_field(CUTOUT_FORMATS, "png", "the buffer format this editor wants place_layer's cutout in"),
        },
        ["protocol", "client", "key", "nonce"],
    ),
    "auth": request_schema(
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
    "pair": request_schema(
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
    "select_subject": request_schema(
        "select_subject",
        "Cut out the image's main subject (one job).",
        {
            "outputs": outputs_field(OUTPUTS),
            "format": FORMAT,
            "crop_alpha": CROP_ALPHA,
            "refine": enum_field(REFINE_MODES, "best", "none: model output; fast: guided filter; best: matting solver"),
            "edges": EDGES,
            "decontaminate": DECONTAMINATE,
            "band": BAND,
            "priority": PRIORITY,
            "model": MODEL,
        },
        buffers=buffer_list(PHOTO_SPEC),
    ),
    "plate_matte": request_schema(
        "plate_matte",
        "Select Subject helped by a clean plate: a second photo of the same scene without the subject, taken by "
        "hand from about the same spot (one job). The plate is aligned to the image (homography, then exposure); "
        "a plate that cannot be aligned is error alignment_failed.",
        {
            "outputs": outputs_field(PLATE_OUTPUTS),
            "format": FORMAT,
            "refine": enum_field(REFINE_MODES, "best", "none: the plate's own estimate; fast: guided filter; "
                                 "best: matting solver with the known background"),
            "edges": EDGES,
            "decontaminate": DECONTAMINATE,
            "band": BAND,
            "priority": PRIORITY,
            "model": MODEL,
        },
        buffers=buffer_list(PHOTO_SPEC, PLATE_SPEC),
    ),
    "trimap": request_schema(
        "trimap",
        "The automatic trimap around the image's subject (one job): a grey8 buffer named trimap, "
        "0 background, 128 unknown, 255 foreground.",
        {"band": BAND, "format": FORMAT, "priority": PRIORITY, "model": MODEL},
        buffers=buffer_list(IMAGE_SPEC),
    ),
    "soft_segments": request_schema(
        "soft_segments",
        "Decompose the image into `count` soft layers whose alphas sum to one (one job): buffers segment0… "
        "(rgba8 raw or PNG, the input's size), largest first, each the layer's decontaminated colours and its mask.",
        {
            "count": {"type": "integer", "minimum": SEGMENTS_MIN, "maximum": SEGMENTS_MAX,
                      "default": DEFAULT_SEGMENTS, "description": "how many layers"},
            "masks": enum_field(SEGMENT_MASKS, "stacked",
                                "stacked: each layer's mask is its share of what lies under it, so the layers stacked "
                                "bottom (segment0) to top with normal blending give back the image; soft: each "
                                "segment's own alpha (the alphas sum to one)"),
            "format": FORMAT,
            "priority": PRIORITY,
            "model": MODEL,
        },
        buffers=buffer_list(IMAGE_SPEC),
    ),
    "refine": request_schema(
        "refine",
        "Refine a given trimap or rough mask into a soft alpha (one job). The guide has the image's size.",
        {
            "guide": enum_field(GUIDES, "trimap", "trimap: 0 bg, 255 fg, other values unknown; mask: rough alpha 0–255"),
            "mode": enum_field(("fast", "best"), "best", "fast: guided filter; best: matting solver"),
            "outputs": outputs_field(REFINE_OUTPUTS),
            "format": FORMAT,
            "crop_alpha": CROP_ALPHA,
            "priority": PRIORITY,
        },
        buffers=buffer_list(IMAGE_SPEC, GUIDE_SPEC),
    ),
    "select_object": request_schema(
        "select_object",
        "Object Selection (one job): the object that clicks, a box or a rough mask pick, as a soft matte, "
        "taken with `mode` into the matte it corrects. The image is sent once: the engine prepares it (the model's "
        "views) and keeps it under its key, the `image` of the reply, which later requests name instead of "
        "sending the buffer again. A key the engine no longer holds is error not_found: send the buffer again. "
        "Optional buffers: `image` (when no `image` key is given), `mask` (a rough region the user drew, grey "
        "0–255, the image's size) and `previous` (the matte to correct, grey, the image's size; or name a result "
        "by `previous`). At least one click, a box or a mask.",
        {
            "image": {**HEX256, "description": "the key of an image the engine prepared (an earlier reply's `image`, "
                                               "or buffer_key of the image buffer); absent: the `image` buffer"},
            "points": {
                "type": "array",
                "maxItems": OBJECT_POINTS_MAX,
                "default": [],
                "items": {
                    "type": "object",
                    "required": ["x", "y", "positive"],
                    "properties": {
                        "x": {"type": "number", "minimum": 0, "description": "pixels from the left edge"},
                        "y": {"type": "number", "minimum": 0, "description": "pixels from the top edge"},
                        "positive": {"type": "boolean", "description": "true: part of the object; false: not"},
                    },
                    "additionalProperties": False,
                },
                "description": "clicks in image pixels",
            },
            "box": {
                "type": "array",
                "items": {"type": "number", "minimum": 0},
                "minItems": 4,
                "maxItems": 4,
                "description": "x0, y0, x1, y1 in image pixels: the object is inside it",
            },
            "mode": enum_field(OBJECT_MODES, "new", "new: the object alone (clicks alone with a previous matte "
                               "correct it near the clicks); add, subtract, intersect: the object taken into the "
                               "previous matte"),
            "previous": {**ID, "description": "the `result` of an earlier select_subject, refine or select_object "
                                              "reply: the matte to correct"},
            "refine": enum_field(REFINE_MODES, "fast", "the result's soft edge: none, fast (guided filter) or best "
                                 "(matting solver)"),
            "sam": {**SAM_NAME, "description": "pick with this Segment Anything model from rembg's folder (e.g. "
                                                "sam_vit_b_01ec64; `sam` in models.list); absent: the mask model "
                                                "and a graph cut"},
            "outputs": outputs_field(REFINE_OUTPUTS),
            "format": FORMAT,
            "crop_alpha": CROP_ALPHA,
            "edges": EDGES,
            "decontaminate": DECONTAMINATE,
            "priority": PRIORITY,
            "model": MODEL,
        },
        buffers=OBJECT_BUFFERS,
        buffers_required=False,
    ),
    "adjust_edges": request_schema(
        "adjust_edges",
        "Re-apply edge controls and decontamination to a cached result, without re-running the model (one job).",
        {
            "result": {**ID, "description": "the `result` id of an earlier result on this connection"},
            "edges": EDGES,
            "decontaminate": DECONTAMINATE,
            "outputs": outputs_field(REFINE_OUTPUTS),
            "format": FORMAT,
            "crop_alpha": CROP_ALPHA,
            "priority": PRIORITY,
        },
        ["result"],
    ),
    "models.list": request_schema("models.list", "List the models the engine can run.", {}),
    "status": request_schema("status", "Ask for the engine's state.", {}),
    "cancel": request_schema(
        "cancel",
        "Cancel a queued or running job of this connection.",
        {"job": {**ID, "description": "the id of the request that started the job"}},
        ["job"],
    ),
    "phone_cut": request_schema(
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
        buffers=buffer_list(PHOTO_SPEC),
    ),
    "phone_paste": request_schema(
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
        buffers=buffer_list(buffer_spec("photo", PHOTO_FORMATS)),
    ),
    "phone_link": request_schema(
        "phone_link",
        "Ask for the phone's pairing URL (with a one-time token) and its QR code; not_found without --lan.",
        {},
    ),
    "video_start": request_schema(
        "video_start",
        "Open a video stream (one job): send its frames with video_frame, then video_end. Each frame is answered "
        "by a frame message, in order, one frame late (the temporal filter looks one frame ahead); the job ends "
        "with a result {frames, timings, device} without buffers. Optional buffer `plate`: a clean plate of the "
        "scene (an rgba8 plate's transparent pixels are not plate), aligned to every frame; a frame it cannot be "
        "aligned to is matted without it (counted in the result's frames_without_plate).",
        {
            "outputs": outputs_field(VIDEO_OUTPUTS),
            "format": FORMAT,
            "refine": enum_field(REFINE_MODES, DEFAULT_VIDEO_REFINE,
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
        buffers={"type": "array", "prefixItems": [PLATE_SPEC], "items": False, "maxItems": 1},
        buffers_required=False,
    ),
    "video_frame": request_schema(
        "video_frame",
        "The next frame of a video stream (numbered in arrival order from 0; frames must all have the first "
        "frame's size). Answered only by its frame message later, or by an error about it.",
        {"stream": STREAM},
        ["stream"],
        buffers=buffer_list(PHOTO_SPEC),
    ),
    "video_end": request_schema(
        "video_end",
        "No more frames: the engine answers the frame it still holds, then ends the stream's job with result.",
        {"stream": STREAM},
        ["stream"],
    ),
}
"""Client → engine messages, by type."""

REQUEST_TYPES: tuple[str, ...] = tuple(REQUEST_SCHEMAS)


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
