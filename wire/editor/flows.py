"""The engine requests behind each editor action, the same in every plug-in.

A flow takes ``ask``: send one request and wait for its :class:`~wire.client.Result`, raising
the client's errors (each plug-in passes its own: connection, progress, cancel), and ``source``:
what the plug-in read, with ``width``, ``height`` and ``rgba`` (rgba8 bytes, row-major, top-down).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..client import Result, objects, raw_image
from ..client.models import ModelChoice, pick
from ..protocol import messages
from ..protocol.messages import Buffer, Message
from .texts import NOTHING_SELECTED, Refused

Ask = Callable[[Message], Result]
OUTPUTS = ("selection", "mask", "layer")  # the selection, a new mask on the layer, a new cut-out layer


@dataclass(frozen=True)
class MatteOptions:
    """Select Subject's choices (with a clean plate and Refine Selection too): ``output`` (one of
    :data:`OUTPUTS`), ``quality`` ("best" or "fast"), ``edges`` (smooth, feather, contrast, shift_edge;
    0: untouched), ``decontaminate`` (0–1, a new layer's colours), ``model`` (None: the engine's default)."""

    output: str = "selection"
    quality: str = "best"
    edges: Mapping[str, float] = field(default_factory=dict)
    decontaminate: float = 1.0
    model: str | None = None

    def __post_init__(self) -> None:
        outputs_for(self.output)


def outputs_for(output: str) -> list[str]:
    """The buffers the insertion of ``output`` needs: ``alpha``, and ``foreground`` for a new layer."""
    if output not in OUTPUTS:
        raise ValueError(f"output: expected one of {OUTPUTS}; got {output!r}")
    return ["alpha", "foreground"] if output == "layer" else ["alpha"]


def active_edges(edges: Mapping[str, float] | None) -> dict[str, float]:
    """The edge controls that change something (non-zero) as floats, named as the protocol names them
    (``shift-edge`` → ``shift_edge``): sliders at rest send nothing."""
    return {key.replace("-", "_"): float(value) for key, value in (edges or {}).items() if float(value) != 0.0}


def requested_model(choices: Sequence[ModelChoice], wanted: str | None) -> str | None:
    """The ``model`` a request names: the user's pick while the engine offers it, else None (its default)."""
    name = pick(choices, wanted)
    return None if any(c.default and c.name == name for c in choices) else name


def check_guide(coverage: bytes) -> None:
    """Raise :class:`Refused` when the selection's coverage (grey8) is 0 everywhere: nothing to refine."""
    if not bytes(coverage).strip(b"\x00"):
        raise Refused(NOTHING_SELECTED)


def _image(source: Any) -> Buffer:
    return raw_image(source.width, source.height, "rgba8", source.rgba)


def select_subject(ask: Ask, source: Any, options: MatteOptions, *, plate: Buffer | None = None) -> Result:
    """Select Subject, or with ``plate`` (the clean plate's buffer) ``plate_matte``: one request."""
    fields = {"outputs": outputs_for(options.output), "refine": options.quality,
              "edges": active_edges(options.edges), "decontaminate": options.decontaminate, "model": options.model}
    if plate is None:
        return ask(messages.select_subject(_image(source), **fields))
    return ask(messages.plate_matte(_image(source), plate, **fields))


def refine_selection(ask: Ask, source: Any, coverage: bytes, options: MatteOptions) -> Result:
    """Refine Selection: ``refine`` the rough selection (``coverage``: grey8 over the source), then
    ``adjust_edges`` on its result when an edge control or decontamination is asked for."""
    outputs = outputs_for(options.output)
    guide = raw_image(source.width, source.height, "grey8", coverage, name="guide")
    result = ask(messages.refine(_image(source), guide, guide_kind="mask", mode=options.quality, outputs=outputs))
    edges = active_edges(options.edges)
    if edges or options.decontaminate != 1.0:
        result = ask(messages.adjust_edges(result.result_id, edges=edges, decontaminate=options.decontaminate,
                                           outputs=outputs))
    return result


@dataclass(frozen=True)
class ObjectPrompts:
    """What the user gave Object Selection: ``box`` (x0, y0, x1, y1: a rectangular selection's bounds),
    ``points`` ((x, y, positive) clicks: path anchors, canvas clicks, colour samplers), ``rough`` (grey8
    coverage over the source: a selection drawn with the editor's tools), all in image pixels."""

    box: tuple[float, float, float, float] | None = None
    points: tuple[tuple[float, float, bool], ...] = ()
    rough: bytes | None = None


def select_object(ask: Ask, source: Any, prompts: ObjectPrompts, options: MatteOptions, *, mode: str = "new",
                  previous: str | None = None, previous_coverage: Callable[[], bytes] | None = None) -> Result:
    """Object Selection, or with ``mode`` add/subtract/intersect a correction of ``previous`` (the last
    Softcut result's id for this image; ``previous_coverage``: that matte as grey8 over the source, read
    when the engine no longer holds the id): one ``select_object``, the image's pixels sent only when the
    engine does not hold it prepared (:func:`wire.client.objects.select_object`)."""
    if prompts.rough is not None:
        check_guide(prompts.rough)
    width, height = source.width, source.height
    mask = None if prompts.rough is None else raw_image(width, height, "grey8", prompts.rough, name="mask")

    def previous_pixels() -> Buffer:
        return raw_image(width, height, "grey8", previous_coverage(), name="previous")

    return objects.select_object(
        ask, _image(source), points=prompts.points, box=prompts.box, mask=mask, mode=mode, previous=previous,
        previous_pixels=previous_pixels if previous_coverage is not None else None, refine=options.quality,
        outputs=outputs_for(options.output), edges=active_edges(options.edges),
        decontaminate=options.decontaminate, model=options.model)


def adjust_edges(ask: Ask, result_id: str, output: str, edges: Mapping[str, float] | None) -> Result:
    """New edge controls on the earlier result ``result_id`` (live sliders), for ``output``'s buffers."""
    return ask(messages.adjust_edges(result_id, edges=active_edges(edges), outputs=outputs_for(output)))


def soft_segments(ask: Ask, source: Any, count: int, model: str | None = None) -> Result:
    """Soft Segment Layers: ``source`` as ``count`` stacked soft layers (:func:`.layers.segment_layers`)."""
    return ask(messages.soft_segments(_image(source), count=count, masks="stacked", model=model))
