"""``select_subject``: the image's subject as alpha, foreground, cut-out, trimap or coarse mask.

The model stage (resizing, views, confidence) runs on the CPU pool, each of its inferences
on the model worker (:meth:`~engine_server.engine.Engine.predict`) with the request's model
(``model``, else the engine's default); it is cached by image content and model name, so asking again with other refinement or edge settings skips inference;
the rest runs on the CPU pool too. The finished matte is kept under a result id for
``adjust_edges``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from core.subject.coarse import Coarse, model_stage
from core.subject.options import MatteOptions
from core.subject.refine import refine_stage
from core.subject.result import Matte
from engine_server.jobs import QUEUED
from engine_server.operations.common import Reply, buffer, edge_controls, matte_outputs, model, reserve
from engine_server.results import content_key

TYPES = ("select_subject",)
KIND = QUEUED
CAPABILITIES = ("crop_alpha",)
"""``welcome`` says this engine takes ``crop_alpha`` (here, and in refine, select_object and adjust_edges:
:func:`~engine_server.operations.common.matte_outputs`) and grey buffers sent as their box (``within``:
:func:`~engine_server.images.decode_grey`), so a client sends them only to an engine that does."""


@dataclass
class StoredResult:
    """What ``adjust_edges`` needs to redo the last steps without model or solver.

    image: (H, W, 3) float32 [0, 1]; unedited: (H, W) float32 [0, 1], alpha before edge controls;
    background (H, W, 3) float32 [0, 1] and known (H, W) bool: the aligned clean plate and
    where it holds (``plate_matte`` results only), for decontamination.
    """

    image: np.ndarray
    unedited: np.ndarray
    background: np.ndarray | None = None
    known: np.ndarray | None = None


def options_from(fields: dict) -> MatteOptions:
    """The matte options from a request's fields."""
    return MatteOptions(refine=fields["refine"], edges=edge_controls(fields),
                        decontaminate=float(fields["decontaminate"]), band=float(fields["band"]))


async def cached_model_stage(engine, job, request, image: np.ndarray, options: MatteOptions, session) -> Coarse:
    """The model stage for the request's image by ``session``, from the cache (same content,
    model name and working size) or computed (its inferences on the model worker) and cached."""
    spec, data = request.buffers[0]
    key = content_key(data, spec.format, spec.width, spec.height, session.name, options.pixels)
    stage = engine.coarse_cache.get(key)
    if stage is None:
        stage = await engine.on_cpu(partial(model_stage, image, engine.predict(session), options, progress=job.report))
        engine.coarse_cache.put(key, stage)
    return stage


async def run(ctx, job, request) -> Reply:
    engine = ctx.engine
    colours = bool({"foreground", "cutout"} & set(request.fields["outputs"]))
    async with model(engine, job, request.fields) as session, reserve(engine, job, request, "select_subject"):
        reply, _ = await run_with(engine, job, request, partial(refine_stage, colours=colours), session)
    return reply


async def run_with(engine, job, request, finish: Callable[..., Matte], session) -> tuple[Reply, Matte]:
    """Decode the image, run the (cached) model stage by ``session``, then ``finish(image, stage,
    options, progress=...)`` on the CPU pool; keep the matte (and any known background) for
    ``adjust_edges`` and encode the outputs. Returns the reply and the matte. The caller
    holds the session (:func:`~engine_server.operations.common.model`) and the job's memory
    reservation (:func:`~engine_server.operations.common.reserve`)."""
    fields = request.fields
    options = options_from(fields)
    image = await engine.on_cpu(partial(buffer, request, 0, engine=engine))
    job.report(0.02, "decoded")
    stage = await cached_model_stage(engine, job, request, image, options, session)
    matte = await engine.on_cpu(partial(finish, image, stage, options, progress=job.report))
    result_id = uuid.uuid4().hex
    engine.results.put(result_id, StoredResult(image, matte.unedited, matte.background, matte.known))
    outputs = await engine.on_cpu(
        partial(
            matte_outputs,
            fields,
            alpha=matte.alpha,
            foreground=matte.foreground,
            trimap=matte.trimap,
            coarse=matte.coarse.alpha,
            background=matte.background,
        )
    )
    reply = Reply(
        {
            "result": result_id,
            "confidence": round(matte.confidence, 4),
            "low_confidence": matte.low_confidence,
            "model_runs": len(matte.coarse.views),
            "timings": {k: round(v, 4) for k, v in matte.timings.items()},
            "device": session.device,
            "model": session.name,
        },
        outputs,
    )
    return reply, matte
