"""``trimap``: the automatic trimap Select Subject would use, at the image's size."""

from __future__ import annotations

from functools import partial

from core.pipeline import subject_trimap
from engine_server import images
from engine_server.operations.common import Reply, buffer, check_model


async def run(engine, job, request) -> Reply:
    fields = request.fields
    check_model(engine, fields)
    image = await engine.on_cpu(partial(buffer, request, 0, engine=engine))
    trimap, coarse = await engine.on_model(
        partial(subject_trimap, image, engine.session.predict, band=float(fields.get("band", 0.015)))
    )
    job.report(0.9, "trimap")
    out = await engine.on_cpu(partial(images.encode, "trimap", trimap, fields.get("format", "raw")))
    return Reply({"confidence": round(coarse.confidence, 4), "device": engine.session.device}, [out])
