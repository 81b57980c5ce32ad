"""``adjust_edges``: new edge controls on an earlier result, without the model or the solver."""

from __future__ import annotations

from functools import partial

from core.edges import apply_edges
from core.pipeline import finish_edges
from engine_server.operations.common import NotFound, Reply, edge_controls, matte_outputs, reserve


def _stored(engine, fields):
    stored = engine.results.get(str(fields.get("result", "")))
    if stored is None:
        raise NotFound(f"result {fields.get('result')!r} is unknown or expired; run select_subject again")
    return stored


async def run(engine, job, request) -> Reply:
    pixels = _stored(engine, request.fields).unedited.size
    async with reserve(engine, job, request, "adjust_edges", result_pixels=pixels):
        # looked up again: a job waiting for memory holds no result the cache may have let go
        return await _run(engine, job, request.fields, _stored(engine, request.fields))


async def _run(engine, job, fields, stored) -> Reply:
    names = list(fields.get("outputs", ["alpha"]))
    edges = edge_controls(fields)
    if {"foreground", "cutout"} & set(names):
        amount = float(fields.get("decontaminate", 1.0))
        alpha, foreground = await engine.on_cpu(partial(finish_edges, stored.image, stored.unedited, edges, amount,
                                                           background=stored.background, known=stored.known))
    else:  # alpha only: no colour estimation, the common slider case
        alpha, foreground = await engine.on_cpu(partial(apply_edges, stored.unedited, edges)), None
    job.report(0.9, "edges")
    outputs = await engine.on_cpu(
        partial(matte_outputs, names, fields.get("format", "raw"), alpha=alpha, foreground=foreground)
    )
    return Reply({"result": fields["result"]}, outputs)
