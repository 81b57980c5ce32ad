"""The protocol's constants: its version, message ids, buffer formats, outputs, limits and the
documented defaults that are also named (the rest live in the request schemas: :func:`.request_schemas.defaults`).

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

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
OBJECT_MODES: tuple[str, ...] = ("new", "add", "subtract", "intersect")
"""How an Object Selection result meets the matte it corrects (``core.objects.MODES``)."""
OBJECT_POINTS_MAX = 64
"""The most clicks one ``select_object`` request may carry."""
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

SEGMENTS_MIN, SEGMENTS_MAX, DEFAULT_SEGMENTS = 2, 10, 5
SEGMENT_MASKS = ("stacked", "soft")

PAIRING_CODE_DIGITS = 6
"""A pairing code (``pair.code``) is this many decimal digits."""
LINK_TOKEN_LENGTH = (20, 64)
"""A phone link's one-time token (``pair.code`` too) has this many URL-safe characters (min, max)."""
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

JOB_TYPES: tuple[str, ...] = ("select_subject", "select_object", "plate_matte", "trimap", "refine", "adjust_edges",
                              "soft_segments",
                               "phone_cut", "phone_paste", "video_start")
"""Requests that become queued jobs (answered by accepted, progress…, then result, error or cancelled)."""
STREAM_TYPES: tuple[str, ...] = ("video_frame", "video_end")
"""Requests that feed a running video stream (field ``stream``): no job of their own."""
