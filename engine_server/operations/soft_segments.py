"""``soft_segments``: the image as a few soft layers that sum to one (after Semantic Soft Segmentation).

The model's decoder features (the semantic term) run on the model worker; the
decomposition (:func:`core.segments.soft_segments`) on the CPU pool. Buffers
``segment0``… are RGBA at the input's size, largest segment first: the layer's
decontaminated colours, and as alpha either its stacking mask (``masks`` "stacked")
or its own soft alpha ("soft"), see :meth:`core.segments.SoftSegments.layers_rgba`.
"""

from __future__ import annotations

import time
from functools import partial

from core.segments import model_features, soft_segments
from engine_server import images
from engine_server.jobs import QUEUED
from engine_server.operations.common import Reply, buffer, model, reserve

TYPES = ("soft_segments",)
KIND = QUEUED


def segment_buffers(segments, masks: str, fmt: str) -> list:
    """One RGBA buffer per segment, named segment0…, in the segments' order."""
    return [images.encode(f"segment{k}", rgba, fmt) for k, rgba in enumerate(segments.layers_rgba(masks))]


async def run(ctx, job, request) -> Reply:
    async with model(ctx.engine, job, request.fields) as session, reserve(ctx.engine, job, request, "soft_segments"):
        return await _run(ctx.engine, job, request, session)


async def _run(engine, job, request, session) -> Reply:
    fields = request.fields
    count = int(fields["count"])
    started = time.perf_counter()
    image = await engine.on_cpu(partial(buffer, request, 0, engine=engine))
    decoded = time.perf_counter()
    job.report(0.05, "decoded")
    features = await engine.on_model(model_features, session, image)
    featured = time.perf_counter()
    job.report(0.3, "features")
    segments = await engine.on_cpu(partial(soft_segments, image, count, features=features))
    segmented = time.perf_counter()
    job.report(0.9, "segments")
    outputs = await engine.on_cpu(segment_buffers, segments, fields["masks"], fields["format"])
    return Reply(
        {
            "count": len(outputs),
            "semantic": features is not None,
            "timings": {
                "decode": round(decoded - started, 4),
                "features": round(featured - decoded, 4),
                "segments": round(segmented - featured, 4),
                "encode": round(time.perf_counter() - segmented, 4),
            },
            "device": session.device,
            "model": session.name,
        },
        outputs,
    )
