"""``adjust_edges``: new edge controls on an earlier result, without the model or the solver."""

from __future__ import annotations

from functools import partial

from core.edges import apply_edges
from core.subject.finish import finish_edges
from engine_server.errors import NotFound
from engine_server.jobs import QUEUED
from engine_server.operations.common import Reply, edge_controls, matte_outputs, reserve

TYPES = ("adjust_edges",)
KIND = QUEUED


def _stored(engine, fields):
    stored = engine.results.get(str(fields["result"]))
    if stored is None:
        raise NotFound(f"result {fields['result']!r} is unknown or expired; run select_subject again")
    return stored


async def run(ctx, job, request) -> Reply:
    engine = ctx.engine
    pixels = _stored(engine, request.fields).unedited.size
    async with reserve(engine, job, request, "adjust_edges", result_pixels=pixels):
        # looked up again: a job waiting for memory holds no result the cache may have let go
        return await _run(engine, job, request.fields, _stored(engine, request.fields))


async def _run(engine, job, fields, stored) -> Reply:
    names = list(fields["outputs"])
    edges = edge_controls(fields)
    if {"foreground", "cutout"} & set(names):
        amount = float(fields["decontaminate"])
        alpha, foreground = await engine.on_cpu(partial(finish_edges, stored.image, stored.unedited, edges, amount,
                                                           background=stored.background, known=stored.known))
    else:  # alpha only: no colour estimation, the common slider case
        alpha, foreground = await engine.on_cpu(partial(apply_edges, stored.unedited, edges)), None
    job.report(0.9, "edges")
    outputs = await engine.on_cpu(partial(matte_outputs, fields, alpha=alpha, foreground=foreground))
    return Reply({"result": fields["result"]}, outputs)
