"""``phone_link``: the phone's pairing URL, with its one-time token, and its QR code (LAN mode only)."""

from __future__ import annotations

from engine_server import lan
from engine_server.errors import NotFound
from engine_server.jobs import INSTANT
from wire.protocol import messages

TYPES = ("phone_link",)
KIND = INSTANT


async def run(ctx, job, request) -> messages.Message:
    url = ctx.phone_url()
    if url is None:
        raise NotFound("LAN mode is off: start the engine with softcut serve --lan")
    png, side = await ctx.engine.on_cpu(lan.qr_png, url)
    qr = messages.buffer("qr", png, format="png", width=side, height=side)
    return messages.phone_link_reply(request.id, url=url, qr=qr)
