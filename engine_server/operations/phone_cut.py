"""``phone_cut``: a phone photo's subject — a quick preview now, the full-resolution cut-out after.

The answer waits only for decoding, the model, a preview-sized refinement (guided
filter at the working size, decontamination at the preview's size) and keeping the
photo durably in the outbox under the ``cut`` id (so the cut survives the engine
stopping; a disk that cannot take it is reported as ``storage_failed``). The
full-resolution cut-out (``best`` refinement, decontaminated colours, RGBA PNG) is
finished in the background and staged in the outbox in the photo's place; a
``phone_paste`` that comes before it is done waits for it, and one that comes after a
restart has it made again from the kept photo (:func:`resume`).
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from core.composite import cutout_rgba, subject_box
from core.foreground.blur_fusion import decontaminate
from core.imageio import encode_png
from core.subject.coarse import Coarse, model_stage
from core.subject.options import MatteOptions
from core.subject.refine import refine_alpha, refine_stage
from core.subject.working import resize_image
from core.trimap.auto import auto_trimap
from engine_server import images, memory
from engine_server.jobs import QUEUED
from engine_server.phone import outbox
from engine_server.operations.common import Reply, buffer
from engine_server.operations.select_subject import cached_model_stage
from wire.protocol.schemas import DEFAULT_LAYER_NAME

TYPES = ("phone_cut",)
KIND = QUEUED

FULL_OPTIONS = MatteOptions(refine="best")
"""The full-resolution cut-out's refinement (2.4 × inference at 12 MP, docs/benchmarks.md)."""
CUTOUT_PNG_COMPRESSION = 1
"""zlib level of the staged PNG: level 1 writes a 12 MP cut-out several times faster than 3."""


def preview_cutout(image: np.ndarray, stage: Coarse, preview_max: int, band: float) -> np.ndarray:
    """The cut-out at preview size, from the model stage alone.

    image: (H, W, 3) float32 [0, 1], RGB; stage: its model stage (working image and mask).
    Returns (h, w, 4) uint8 RGBA, straight alpha, longest side min(preview_max, max(H, W)).
    """
    h, w = image.shape[:2]
    scale = min(1.0, preview_max / max(h, w))
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    small = resize_image(image, size)
    trimap = auto_trimap(stage.coarse.alpha, band=band)
    alpha = refine_alpha(stage.small, trimap, stage.coarse.alpha, mode="fast")
    alpha = resize_image(alpha, size)
    return cutout_rgba(decontaminate(small, alpha), alpha)


def full_cutout_png(image: np.ndarray, stage: Coarse) -> tuple[bytes, int, int]:
    """The full-resolution cut-out, cropped to the subject, as an RGBA PNG file: (bytes, width, height).

    Cropped so that the layer an editor gets is the subject's size and its centre is the
    subject's centre (that is what lands where the phone points).
    """
    matte = refine_stage(image, stage, FULL_OPTIONS)
    x, y, w, h = subject_box(matte.alpha)
    rgba = cutout_rgba(matte.foreground[y:y + h, x:x + w], matte.alpha[y:y + h, x:x + w])
    return encode_png(rgba, compression=CUTOUT_PNG_COMPRESSION), rgba.shape[1], rgba.shape[0]


async def finish(engine, deliveries, cut: str, image: np.ndarray, stage: Coarse,
                 held: memory.Reservation | None = None) -> None:
    """Compute the full-resolution cut-out on the CPU workers and stage it in the outbox;
    then give back ``held``, the job's memory reservation."""
    try:
        png, width, height = await engine.on_cpu(full_cutout_png, image, stage)
        photo_size = (image.shape[1], image.shape[0])
        await engine.on_cpu(partial(deliveries.outbox.stage, cut, png, name=DEFAULT_LAYER_NAME, width=width,
                                    height=height, photo_size=photo_size))
    finally:
        if held is not None:
            held.release()


async def resume(engine, deliveries, kept: outbox.Delivery) -> None:
    """Make and stage the cut-out of a cut whose photo was kept (``kept``: its "cutting" record)
    but whose cut-out was never staged: the engine stopped first, or staging it failed."""
    fmt, width, height = kept.source
    held = await engine.memory.acquire(memory.job_estimate("phone_cut", {}, [(fmt, width, height, 0)]),
                                       what=f"the kept photo of cut {kept.id}")
    try:
        data = await engine.on_cpu(deliveries.outbox.photo, kept.id)
        image = await engine.on_cpu(partial(images.decode_rgb, data, fmt, width, height,
                                            max_pixels=engine.limits.max_pixels, name="image"))
        stage = await engine.on_cpu(partial(model_stage, image, engine.predict(), FULL_OPTIONS))
    except BaseException:
        held.release()
        raise
    await finish(engine, deliveries, kept.id, image, stage, held)


async def run(ctx, job, request) -> Reply:
    """The job's memory is held from before decoding until the full-resolution cut-out is staged."""
    engine, deliveries = ctx.engine, ctx.deliveries
    held = await engine.memory.acquire(memory.request_estimate("phone_cut", request), job,
                                       what=memory.describe("phone_cut", request))
    try:
        return await _run(engine, deliveries, job, request, held)
    except BaseException:
        held.release()  # the cut-out's work never started (it gives ``held`` back itself once it has)
        raise


async def _run(engine, deliveries, job, request, held: memory.Reservation) -> Reply:
    fields = request.fields
    started = time.perf_counter()
    image = await engine.on_cpu(partial(buffer, request, 0, engine=engine))
    decoded = time.perf_counter()
    job.report(0.1, "decoded")
    stage = await cached_model_stage(engine, job, request, image, FULL_OPTIONS, engine.session)  # the default model
    modelled = time.perf_counter()
    preview_max = int(fields["preview_max"])
    rgba = await engine.on_cpu(preview_cutout, image, stage, preview_max, FULL_OPTIONS.band)
    preview = await engine.on_cpu(images.encode, "preview", rgba, "png")
    job.report(0.95, "preview")
    cut = outbox.new_id()
    spec, data = request.buffers[0]
    await engine.on_cpu(partial(deliveries.outbox.keep_photo, cut, data, source=(spec.format, spec.width, spec.height),
                                name=DEFAULT_LAYER_NAME))  # on disk before the cut id is answered
    deliveries.finish_later(cut, finish(engine, deliveries, cut, image, stage, held))
    h, w = image.shape[:2]
    return Reply(
        {
            "cut": cut,
            "width": w,
            "height": h,
            "confidence": round(stage.coarse.confidence, 4),
            "timings": {
                "decode": round(decoded - started, 4),
                "model": round(modelled - decoded, 4),
                "preview": round(time.perf_counter() - modelled, 4),
            },
            "device": engine.session.device,
        },
        [preview],
    )
