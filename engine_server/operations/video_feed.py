"""``video_frame`` / ``video_end``: to the open video stream their ``stream`` field names.

The stream is the handle of the ``video_start`` job of that id on this connection
(:mod:`engine_server.operations.video`). A frame waits there for its turn and is answered by the
stream's ``frame`` message; either request is answered at once only when refused: ``not_found``
(no open stream of that id: never started, ended, failed or cancelled) or ``busy``.
"""

from __future__ import annotations

from engine_server.errors import NotFound
from engine_server.jobs import INSTANT
from engine_server.operations.video import VideoStream

TYPES = ("video_frame", "video_end")
KIND = INSTANT


async def run(ctx, job, request) -> None:
    name = str(request.fields["stream"])
    opened = ctx.queue.active(job.client).get(name)
    stream = None if opened is None or opened.cancel_event.is_set() else opened.handle
    if not isinstance(stream, VideoStream) or stream.ended:
        raise NotFound(f"stream: no open video stream {name!r} on this connection (never started, ended, failed "
                       f"or cancelled)")
    stream.feed(request)
