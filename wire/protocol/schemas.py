"""The protocol v2 contract in one namespace: its constants, a JSON Schema per message type, and the checks.

The schemas (draft 2020-12, as plain dicts) are the documented contract, rendered into ``docs/protocol.md``
by :mod:`.docgen`. This module gathers what the rest of the code imports as ``schemas.X``; each part lives
in a module of its own:

- :mod:`.constants`: the version, id rules, buffer formats, outputs, limits and named defaults;
- :mod:`.schema_parts`: the field schemas and builders the message schemas are made of;
- :mod:`.request_schemas`: the client → engine schemas and their defaults (:func:`defaults`);
- :mod:`.reply_schemas`: the engine → client, engine → editor and editor → engine schemas;
- :mod:`.validator`: the standard-library interpreter of the schema keywords used;
- :mod:`.checks`: :func:`check_request` and the other checks the codec and the server run.

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

from .checks import (  # noqa: F401
    check_from_client, check_from_engine, check_reply, check_reply_object, check_request, check_request_object,
)
from .constants import (  # noqa: F401
    BUFFER_FORMATS, CUTOUT_FORMATS, DEFAULT_LAYER_NAME, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_PENDING_FRAMES,
    DEFAULT_MAX_PIXELS, DEFAULT_MAX_QUEUED_PER_CLIENT, DEFAULT_MAX_TEXT_BYTES, DEFAULT_PORT, DEFAULT_PREVIEW_MAX,
    DEFAULT_SEGMENTS, DEFAULT_SMOOTHING, DEFAULT_SNAPSHOT_MAX_SIDE, DEFAULT_VIDEO_REFINE, ENGINE_REQUEST_TYPES,
    GUIDE_FORMATS, GUIDES, ID_CHARACTERS, ID_MAX_LENGTH, IMAGE_FORMATS, JOB_TYPES, LINK_TOKEN_LENGTH, MAX_BUFFERS,
    OUTPUT_FORMATS, OUTPUT_RAW_FORMAT, OUTPUTS, PAIRED_SCOPES, PAIRING_CODE_DIGITS, PHONE_NAME_MAX, PHOTO_FORMATS,
    PLATE_OUTPUTS, PRIORITIES, PROTOCOL_VERSION, RAW_CHANNELS, REFINE_MODES, REFINE_OUTPUTS, SEGMENT_MASKS,
    SEGMENTS_MAX, SEGMENTS_MIN, SNAPSHOT_FORMATS, STREAM_TYPES, UPDATE_HINT, VIDEO_OUTPUTS,
)
from .reply_schemas import (  # noqa: F401
    EDITOR_REPLY_SCHEMAS, EDITOR_REPLY_TYPES, ENGINE_REQUEST_SCHEMAS, REPLY_SCHEMAS, REPLY_TYPES,
)
from .request_schemas import REQUEST_SCHEMAS, REQUEST_TYPES, defaults, with_defaults  # noqa: F401
from .schema_parts import (  # noqa: F401
    BAND, BUFFER_SPEC, CLIENT_INFO, DECONTAMINATE, DRAFT, EDGES, FORMAT, HEX256, ID, KEY_ID, MODEL, MODEL_INFO, NAME,
    NULLABLE_INT, PRIORITY, RECT, STREAM,
)
from .validator import SUPPORTED_KEYWORDS, SchemaViolation, validate  # noqa: F401
