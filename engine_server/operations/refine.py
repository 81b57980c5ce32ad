"""``refine``: an image plus a user's trimap or rough mask → alpha."""

from __future__ import annotations

import uuid
from functools import partial

import numpy as np

from core.errors import ParameterError
from core.foreground.blur_fusion import decontaminate
from core.subject.selection import refine_mask, refine_with_trimap
from engine_server.jobs import QUEUED
from engine_server.operations.common import Reply, buffer, matte_outputs, reserve
from engine_server.operations.select_subject import StoredResult

TYPES = ("refine",)
KIND = QUEUED


def _refine(image: np.ndarray, guide: np.ndarray, kind: str, mode: str) -> np.ndarray:
    if guide.shape != image.shape[:2]:
        raise ParameterError(f"buffers: the {kind} is {guide.shape[::-1]} but the image {image.shape[1::-1]}")
    if kind == "trimap":
        return refine_with_trimap(image, guide, mode=mode)
    return refine_mask(image, guide.astype(np.float32) / 255.0, mode=mode)[0]


async def run(ctx, job, request) -> Reply:
    async with reserve(ctx.engine, job, request, "refine"):
        return await _run(ctx.engine, job, request)


async def _run(engine, job, request) -> Reply:
    fields = request.fields
    image = await engine.on_cpu(partial(buffer, request, 0, engine=engine))
    guide = await engine.on_cpu(partial(buffer, request, 1, engine=engine, grey=True))
    job.report(0.1, "decoded")
    alpha = await engine.on_cpu(partial(_refine, image, guide, fields["guide"], fields["mode"]))
    job.report(0.9, "refine")
    result_id = uuid.uuid4().hex  # kept like select_subject's, so adjust_edges can use it
    engine.results.put(result_id, StoredResult(image, alpha))
    names = list(fields["outputs"])
    foreground = None
    if {"foreground", "cutout"} & set(names):
        foreground = await engine.on_cpu(partial(decontaminate, image, alpha))
        job.report(0.95, "foreground")
    outputs = await engine.on_cpu(partial(matte_outputs, fields, alpha=alpha, foreground=foreground))
    return Reply({"result": result_id}, outputs)
