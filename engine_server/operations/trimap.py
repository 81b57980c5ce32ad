"""``trimap``: the automatic trimap Select Subject would use, at the image's size.

Shares the model-stage cache with ``select_subject``: asking for the trimap of
an image already cut out (or cutting out one whose trimap was asked) runs the
model once.
"""

from __future__ import annotations

from functools import partial

import cv2

from core.subject.options import MatteOptions
from core.subject.trimap import photo_trimap
from engine_server import images
from engine_server.jobs import QUEUED
from engine_server.operations.common import Reply, buffer, model, reserve
from engine_server.operations.select_subject import cached_model_stage

TYPES = ("trimap",)
KIND = QUEUED


async def run(ctx, job, request) -> Reply:
    async with model(ctx.engine, job, request.fields) as session, reserve(ctx.engine, job, request, "trimap"):
        return await _run(ctx.engine, job, request, session)


async def _run(engine, job, request, session) -> Reply:
    fields = request.fields
    image = await engine.on_cpu(partial(buffer, request, 0, engine=engine))
    stage = await cached_model_stage(engine, job, request, image, MatteOptions(), session)
    h, w = image.shape[:2]
    trimap = await engine.on_cpu(partial(photo_trimap, stage.small, stage.coarse.alpha, band=float(fields["band"])))
    trimap = cv2.resize(trimap, (w, h), interpolation=cv2.INTER_NEAREST)
    job.report(0.9, "trimap")
    out = await engine.on_cpu(partial(images.encode, "trimap", trimap, fields["format"]))
    return Reply({"confidence": round(stage.coarse.confidence, 4), "device": session.device, "model": session.name},
                 [out])
