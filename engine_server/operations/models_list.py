"""``models.list``: the models the engine can run (:meth:`engine_server.engine.Engine.model_list`)."""

from __future__ import annotations

from engine_server.jobs import INSTANT
from wire.protocol import messages

TYPES = ("models.list",)
KIND = INSTANT


async def run(ctx, job, request) -> messages.Message:
    return messages.reply("models", request.id, models=ctx.engine.model_list())
