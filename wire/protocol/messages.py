"""Protocol messages in one namespace: the :class:`Message` envelope, buffer specs, and a constructor
per message type, as the rest of the code uses them (``messages.select_subject(...)``).

- :mod:`.envelope`: :class:`Message`, :class:`BufferSpec`, ids, :func:`buffer`;
- :mod:`.client_messages`: the client's requests and an editor's answers to engine requests;
- :mod:`.engine_messages`: the engine's replies and events, :class:`Limits`, and its requests to editors.

:func:`wire.protocol.codec.encode` turns messages into frames.

Standard library only (editor plug-ins vendor this package).
"""

from __future__ import annotations

from .client_messages import (  # noqa: F401
    adjust_edges, auth, cancel, hello, models_list, pair, phone_cut, phone_link, phone_paste, placed, plate_matte,
    refine, select_object, select_subject, snapshot, soft_segments, status, trimap, video_end, video_frame, video_start,
)
from .engine_messages import (  # noqa: F401
    Limits, accepted, cancelled, canvas_snapshot, challenge, error, error_from, frame, paired, phone_link_reply,
    place_layer, progress, reply, result, welcome,
)
from .boxes import CROP_ALPHA, cropped, nonzero_box, whole, with_boxes  # noqa: F401
from .envelope import (  # noqa: F401
    ENVELOPE_KEYS, Buffer, BufferSpec, BytesLike, IdGenerator, Message, as_buffer, buffer, buffer_key, is_valid_id, new_id,
    payload_size,
)
