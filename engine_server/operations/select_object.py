"""``select_object``: Object Selection on an image the engine prepares once.

The first request on an image sends its pixels; the engine prepares it (:class:`core.objects.ObjectSelector`:
the working image and the model's view of the whole frame) and keeps it in the result cache under
the image buffer's key (:func:`wire.protocol.envelope.buffer_key`) and the model's name. Later
requests name the key and send only prompts; the selector runs the model again only on crops it has
not seen, each inference queued on the model worker in the job's turn and a point where a
cancelled job stops. The result is kept under a result id like Select Subject's, so that
``adjust_edges`` re-edges it and the next ``select_object`` corrects it (``previous``).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
import uuid
from functools import partial

import numpy as np

from core.edges import apply_edges
from core.errors import ParameterError
from core.imageio import grey8_view, uint8_to_float
from core.objects import ObjectOptions, ObjectSelector
from core.objects.sam import SamModel, open_sam
from core.subject.finish import finish_edges
from engine_server import images
from engine_server.errors import NotFound
from engine_server.jobs import QUEUED
from engine_server.operations.common import Reply, buffer, edge_controls, matte_outputs, model, reserve
from engine_server.operations.select_subject import StoredResult
from wire.protocol.envelope import buffer_key

TYPES = ("select_object",)
KIND = QUEUED


def prepared_key(image_key: str, model_name: str) -> str:
    """The result cache's key of an image prepared for Object Selection with ``model_name`` (a mask model,
    or ``sam:NAME``)."""
    return f"object:{model_name}:{image_key}"


def _backend(request, session) -> str:
    """What prepares the request's image: ``sam:NAME`` for a Segment Anything model, else the mask model's name."""
    sam = request.fields.get("sam")
    return f"sam:{sam}" if sam else session.name


_SAM_LOCK = threading.Lock()


def _sam_model(engine, name: str) -> SamModel:
    """The engine's loaded SAM ``name`` (one at a time: another name replaces it), loaded on first use
    from rembg's folder; ParameterError naming the folder when its files are not there."""
    with _SAM_LOCK:
        if engine.sam_model is None or engine.sam_model.name != name:
            engine.sam_model = None  # the old one goes before the new one loads
            engine.sam_model = open_sam(name, device=engine.session.device)
        return engine.sam_model


def _image_key(request) -> str:
    """The request's image key: the one it names, else its image buffer's."""
    named = request.fields.get("image")
    return str(named) if named is not None else buffer_key(request.buffer("image"))


def _prepared(engine, request, key: str, kept_as: str) -> ObjectSelector | None:
    """The selector kept under ``kept_as`` for the request's image (``key``); None when its pixels come
    with the request; ``not_found`` when the request names a key the engine does not hold."""
    selector = engine.results.get(kept_as)
    if selector is None and "image" in request.fields:
        raise NotFound(f"image {key[:12]}…: not prepared on this engine (or let go to make room); "
                       "send the image buffer again")
    return selector


def _index(request, name: str) -> int | None:
    """Where the request's buffer ``name`` is, or None."""
    return next((i for i, (spec, _) in enumerate(request.buffers) if spec.name == name), None)


def _region(request, engine, shape: tuple[int, int]) -> np.ndarray | None:
    """The request's rough ``mask`` as (H, W) bool (coverage of at least half: what core takes a float
    mask's > 0.5 to be, without the float copy), or None when absent."""
    return _grey(request, "mask", engine, shape, at_least=128)


def _grey(request, name: str, engine, shape: tuple[int, int], *, at_least: int | None = None) -> np.ndarray | None:
    """The request's grey buffer ``name`` as (H, W) uint8 (``at_least``: as bool, its pixels >= that), or None
    when absent; its image must be ``shape``. A buffer sent as its box (``within``) is read in place and
    thresholded in the box, then placed."""
    index = _index(request, name)
    if index is None:
        return None
    spec, data = request.buffers[index]
    if spec.within is None:
        grey = buffer(request, index, engine=engine, grey=True)
        size = grey.shape
    else:
        grey = grey8_view(data, spec.width, spec.height)
        size = spec.full_size[::-1]
    if size != shape:
        raise _size_error(name, size, shape)
    if at_least is not None:
        grey = grey >= at_least
    return grey if spec.within is None else images.placed(grey, spec.within)


def _size_error(name: str, got: tuple[int, ...], shape: tuple[int, int]) -> ParameterError:
    return ParameterError(f"buffers: expected the {name} to be {shape[1]}x{shape[0]} like the image; "
                          f"got {got[1]}x{got[0]}")


def _previous(engine, request, shape: tuple[int, int]) -> np.ndarray | None:
    """The matte to correct, (H, W) float32 in [0, 1]: a result the request names, or its previous
    buffer; None for neither."""
    result_id = request.fields.get("previous")
    if result_id is None:
        grey = _grey(request, "previous", engine, shape)
        return None if grey is None else uint8_to_float(grey)
    stored = engine.results.get(str(result_id))
    if not isinstance(stored, StoredResult):
        raise NotFound(f"previous: result {result_id!r} is unknown or expired; send the matte as a buffer")
    if stored.unedited.shape != shape:
        raise _size_error("previous result", stored.unedited.shape, shape)
    return stored.unedited


async def run(ctx, job, request) -> Reply:
    engine = ctx.engine
    async with model(engine, job, request.fields) as session:
        key = _image_key(request)  # a sha256 over the image's bytes when they come: once per request
        kept_as = prepared_key(key, _backend(request, session))
        selector = _prepared(engine, request, key, kept_as)
        pixels = int(np.prod(selector.shape)) if selector is not None else 0
        async with reserve(engine, job, request, "select_object", result_pixels=pixels):
            return await _run(engine, job, request, session, selector, key, kept_as)


async def _run(engine, job, request, session, selector: ObjectSelector | None, key: str, kept_as: str) -> Reply:
    fields = request.fields
    started = time.perf_counter()
    timings: dict[str, float] = {}
    infer = engine.predict(session)

    def predict(batch: np.ndarray) -> np.ndarray:
        job.report(0.1, "model")  # a cancelled job stops before each inference
        return infer(batch)

    prepared = selector is None
    if prepared:
        selector = await engine.on_cpu(partial(_prepare, request, engine, session, predict))
        engine.results.put(kept_as, selector)
        timings["prepare"] = time.perf_counter() - started
        job.report(0.4, "prepared")
    # this request's own view of the kept selector: its refine mode and its job's model calls (the
    # crops the model has seen stay shared)
    mine = copy.copy(selector)
    mine.options = dataclasses.replace(selector.options, refine=fields["refine"])
    mine.use_model(predict)
    mask = await engine.on_cpu(partial(_region, request, engine, selector.shape))
    previous = await engine.on_cpu(partial(_previous, engine, request, selector.shape))
    points = [(p["x"], p["y"], p["positive"]) for p in fields["points"]]
    box = fields.get("box")
    predicted = time.perf_counter()
    alpha = await engine.on_cpu(partial(mine.predict, points, box, mask, fields["mode"], previous))
    timings["predict"] = time.perf_counter() - predicted
    engine.results.put(kept_as, selector)  # counted again, with its new crops
    job.report(0.85, "selected")
    result_id = uuid.uuid4().hex
    engine.results.put(result_id, StoredResult(selector.image_float, alpha))
    names = list(fields["outputs"])
    edges = edge_controls(fields)
    if {"foreground", "cutout"} & set(names):
        edged, foreground = await engine.on_cpu(partial(finish_edges, selector.image_float, alpha, edges,
                                                        float(fields["decontaminate"])))
    else:
        edged = alpha if edges.is_identity else await engine.on_cpu(partial(apply_edges, alpha, edges))
        foreground = None
    outputs = await engine.on_cpu(partial(matte_outputs, fields, alpha=edged, foreground=foreground))
    timings["total"] = time.perf_counter() - started
    sam = fields.get("sam")
    return Reply({"result": result_id, "image": key, "prepared": prepared,
                  "model_runs": mine.model_runs, "timings": {k: round(v, 4) for k, v in timings.items()},
                  "device": session.device, "model": f"sam:{sam}" if sam else session.name}, outputs)


def _prepare(request, engine, session, predict) -> ObjectSelector:
    """Decode the request's image and prepare it (the model on the whole frame)."""
    spec, data = request.buffers[_index(request, "image")]
    image = images.decode_rgb8(data, spec.format, spec.width, spec.height, max_pixels=engine.limits.max_pixels,
                               name=spec.name)
    sam = request.fields.get("sam")
    if sam:
        return ObjectSelector(image, ObjectOptions(backend="sam", sam=sam), sam=_sam_model(engine, sam))
    return ObjectSelector(image, ObjectOptions(model=session.name), predict=predict)
