"""``status``: the engine's state: its device and model, its jobs, clients, uptime and memory."""

from __future__ import annotations

import time

from engine_server.jobs import INSTANT
from wire.protocol import messages

TYPES = ("status",)
KIND = INSTANT


async def run(ctx, job, request) -> messages.Message:
    engine = ctx.engine
    return messages.reply("status", request.id, device=engine.session.device, model=engine.session.name,
                          jobs=ctx.queue.counts(), jobs_done=ctx.jobs_done, clients=len(ctx.clients),
                          uptime_s=round(time.time() - ctx.started, 1),
                          cache_bytes=engine.results.bytes + engine.coarse_cache.bytes, memory=engine.memory.state())
