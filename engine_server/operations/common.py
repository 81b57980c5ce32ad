"""What the operations share: reading request fields and buffers, building outputs.

A request's fields here have every default of its schema filled in (:mod:`engine_server.operations`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from core.composite import cutout_rgba
from core.edges import EdgeControls
from core.errors import ParameterError
from core.imageio import float_to_uint8
from engine_server import images, memory
from engine_server.images import OutBuffer


def model(engine: Any, job: Any, fields: dict[str, Any]):
    """The session of the request's ``model`` (absent: the engine's default) for an ``async with``
    block, loaded first when needed (:meth:`engine_server.sessions.Models.use`; ``not_found`` for a
    model the engine cannot run). Entered before the job's memory is reserved."""
    return engine.models.use(fields.get("model"), job)


@dataclass
class Reply:
    """An operation's answer: result fields and output buffers."""

    fields: dict[str, Any]
    buffers: list[OutBuffer] = field(default_factory=list)


def buffer(request: Any, index: int, *, engine: Any, grey: bool = False) -> np.ndarray:
    """The request's ``index``-th buffer decoded (RGB float image, or uint8 grey)."""
    if len(request.buffers) <= index:
        raise ParameterError(f"buffers: this request needs {index + 1} image buffer(s); got {len(request.buffers)}")
    spec, data = request.buffers[index]
    if spec.within is not None and not grey:
        raise ParameterError(f"buffers: {spec.name} is read as colours; only a grey mask or matte may come as its "
                             "box (within)")
    if grey:
        return images.decode_grey(data, spec.format, spec.width, spec.height, max_pixels=engine.limits.max_pixels,
                                  name=spec.name, within=spec.within)
    return images.decode_rgb(data, spec.format, spec.width, spec.height, max_pixels=engine.limits.max_pixels,
                             name=spec.name)


def reserve(engine: Any, job: Any, request: Any, op: str, *, result_pixels: int = 0):
    """Hold the job's estimated peak memory (:func:`engine_server.memory.request_estimate`,
    from the request's buffer specs, before anything is decoded) for an ``async with`` block:
    waits until it fits in the engine's budget, raises ``image_too_large`` when it never can."""
    return engine.memory.reserve(memory.request_estimate(op, request, result_pixels=result_pixels), job,
                                 what=memory.describe(op, request, result_pixels=result_pixels))


def edge_controls(fields: dict[str, Any]) -> EdgeControls:
    edges = fields["edges"]
    return EdgeControls(smooth=float(edges["smooth"]), feather=float(edges["feather"]),
                        contrast=float(edges["contrast"]), shift_edge=float(edges["shift_edge"]))


def matte_outputs(fields: dict[str, Any], *, alpha, foreground, trimap=None, coarse=None,
                  background=None) -> list[OutBuffer]:
    """Encode the outputs of a matte that the request's ``fields`` ask for (``outputs``, in that order;
    ``format``); ``crop_alpha`` (absent: false; with a raw format): the alpha as the box where it is
    non-zero, placed by its ``within``.

    alpha (H, W), foreground (H, W, 3) float32 [0, 1]; trimap (h, w) uint8 and coarse
    (h, w) float32 at the working size (the trimap is sent at full size); background
    (H, W, 3) float32 [0, 1], an aligned clean plate.
    """
    fmt = fields["format"]
    crop_alpha = fields.get("crop_alpha", False)  # no default in the schema: absent is false
    h, w = alpha.shape
    out = []
    for name in fields["outputs"]:
        if name == "alpha" and crop_alpha and fmt == "raw":
            out.append(images.encode_cropped(name, float_to_uint8(alpha)))
        elif name == "alpha":
            out.append(images.encode(name, float_to_uint8(alpha), fmt))
        elif name == "foreground":
            out.append(images.encode(name, float_to_uint8(foreground), fmt))
        elif name == "cutout":
            out.append(images.encode(name, cutout_rgba(foreground, alpha), fmt))
        elif name == "trimap" and trimap is not None:
            out.append(images.encode(name, cv2.resize(trimap, (w, h), interpolation=cv2.INTER_NEAREST), fmt))
        elif name == "coarse" and coarse is not None:
            out.append(images.encode(name, float_to_uint8(coarse), fmt))
        elif name == "background" and background is not None:
            out.append(images.encode(name, float_to_uint8(background), fmt))
        else:
            raise ParameterError(f"outputs: {name!r} is not available from this request")
    return out
