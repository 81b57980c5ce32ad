"""``plate_matte``: Select Subject helped by a clean plate of the same scene.

The model stage is Select Subject's, from the same cache; the plate's alignment and
the matting with the known background (:func:`core.plate.pipeline.plate_stage`) run
on the CPU pool. The aligned plate is kept with the matte, so ``adjust_edges`` on the
result decontaminates against it too. An rgba8 plate's transparent pixels are not plate.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from core.plate.pipeline import plate_stage
from engine_server.jobs import QUEUED
from engine_server.operations.common import Reply, buffer, model, reserve
from engine_server.operations.select_subject import run_with
from wire.protocol.messages import BufferSpec

TYPES = ("plate_matte",)
KIND = QUEUED


def plate_mask(spec: BufferSpec, data: bytes) -> np.ndarray | None:
    """An rgba8 plate's pixels that show the scene (alpha ≥ 128), (H, W) bool; None for other
    formats or a fully opaque plate (an editor layer's transparent parts, e.g. round a rotated
    photo, are no plate). Also read by video streams' plates."""
    if spec.format != "rgba8":
        return None
    alpha = np.frombuffer(data, np.uint8).reshape(spec.height, spec.width, 4)[:, :, 3]
    return None if alpha.min() >= 128 else alpha >= 128


def decoded_plate(request, index: int, *, engine) -> tuple[np.ndarray, np.ndarray | None]:
    """The request's ``index``-th buffer decoded as a plate, and its :func:`plate_mask` (both
    on the CPU pool, in one call)."""
    plate = buffer(request, index, engine=engine)
    return plate, plate_mask(*request.buffers[index])


async def run(ctx, job, request) -> Reply:
    engine = ctx.engine
    async with model(engine, job, request.fields) as session, reserve(engine, job, request, "plate_matte"):
        plate, mask = await engine.on_cpu(partial(decoded_plate, request, 1, engine=engine))

        def finish(image, stage, options, *, progress):
            return plate_stage(image, plate, stage, options, progress=progress, plate_mask=mask)

        reply, matte = await run_with(engine, job, request, finish, session)
        del plate, mask
    reply.fields["alignment"] = matte.alignment.summary()
    return reply
