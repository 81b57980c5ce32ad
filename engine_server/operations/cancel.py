"""``cancel``: stop a queued or running job of this connection.

A queued job ends at once, answered ``cancelled`` here; a running one stops at its next progress
report (or when its ``on_cancel`` hook wakes it), and its end is answered ``cancelled`` with
``by`` = this request's id. ``not_found`` when the connection has no such job.
"""

from __future__ import annotations

from engine_server.errors import NotFound
from engine_server.jobs import INSTANT, JobState
from wire.protocol import messages

TYPES = ("cancel",)
KIND = INSTANT


async def run(ctx, job, request) -> messages.Message | None:
    target = str(request.fields["job"])
    cancelled = ctx.queue.cancel(job.client, target, by=request.id)
    if cancelled is None:
        raise NotFound(f"no queued or running job {target!r}")
    return messages.cancelled(target, by=request.id) if cancelled.state is JobState.CANCELLED else None
