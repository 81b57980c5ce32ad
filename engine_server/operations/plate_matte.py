"""``plate_matte``: Select Subject helped by a clean plate of the same scene.

The model stage is Select Subject's, from the same cache; the plate's alignment and
the matting with the known background (:func:`core.plate.pipeline.plate_stage`) run
on the CPU pool. The aligned plate is kept with the matte, so ``adjust_edges`` on the
result decontaminates against it too.
"""

from __future__ import annotations

from functools import partial

from core.plate.pipeline import plate_stage
from engine_server.operations.common import Reply, buffer
from engine_server.operations.select_subject import run_with


async def run(engine, job, request) -> Reply:
    plate = await engine.on_cpu(partial(buffer, request, 1, engine=engine))

    def finish(image, stage, options, *, progress):
        return plate_stage(image, plate, stage, options, progress=progress)

    reply, matte = await run_with(engine, job, request, finish,
                                  stored=lambda matte: {"background": matte.background, "known": matte.known})
    reply.fields["alignment"] = matte.alignment.summary()
    return reply
