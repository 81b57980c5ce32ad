"""``soft_segments``: the image as a few soft layers that sum to one (after Semantic Soft Segmentation).

The model's decoder features (the semantic term) run on the model worker; the
decomposition (:func:`core.segments.soft_segments`) on the CPU pool. Buffers
``segment0``… are RGBA at the input's size, largest segment first: the layer's
decontaminated colours, and as alpha either its stacking mask (``masks`` "stacked",
see :func:`core.composite.stacked_masks`) or its own soft alpha ("soft").
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from core.composite import cutout_rgba, stacked_masks
from core.errors import ModelError
from engine_server import images
from engine_server.operations.common import Reply, buffer, check_model
from engine_server.protocol.schemas import DEFAULT_SEGMENTS


def semantic_features(session, image: np.ndarray) -> np.ndarray | None:
    """The model's decoder features of ``image`` ((h, w, C) float32), or None for a model
    without them (the decomposition then goes without its semantic term)."""
    try:
        return session.features(image)
    except (ModelError, AttributeError):
        return None


def segment_buffers(segments, masks: str, fmt: str) -> list:
    """One RGBA buffer per segment, named segment0…, in the segments' order."""
    alphas = stacked_masks(segments.alphas) if masks == "stacked" else segments.alphas
    return [images.encode(f"segment{k}", cutout_rgba(segments.colors[k], alphas[k]), fmt)
            for k in range(alphas.shape[0])]


async def run(engine, job, request) -> Reply:
    from core.segments import soft_segments

    fields = request.fields
    check_model(engine, fields)
    count = int(fields.get("count", DEFAULT_SEGMENTS))
    started = time.perf_counter()
    image = await engine.on_cpu(partial(buffer, request, 0, engine=engine))
    decoded = time.perf_counter()
    job.report(0.05, "decoded")
    features = await engine.on_model(semantic_features, engine.session, image)
    featured = time.perf_counter()
    job.report(0.3, "features")
    segments = await engine.on_cpu(partial(soft_segments, image, count, features=features))
    segmented = time.perf_counter()
    job.report(0.9, "segments")
    outputs = await engine.on_cpu(segment_buffers, segments, fields.get("masks", "stacked"), fields.get("format", "raw"))
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
            "device": engine.session.device,
        },
        outputs,
    )
