"""``models.list``: the models the engine can run (:meth:`engine_server.engine.Engine.model_list`) and the
Segment Anything models ``select_object`` can use (:func:`core.objects.sam.installed_sam`)."""

from __future__ import annotations

from core.objects.sam import installed_sam
from engine_server.jobs import INSTANT
from wire.protocol import messages

TYPES = ("models.list",)
KIND = INSTANT


async def run(ctx, job, request) -> messages.Message:
    return messages.reply("models", request.id, models=ctx.engine.model_list(), sam=installed_sam())
