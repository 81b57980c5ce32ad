"""The engine requests behind each editor action, the same in every plug-in.

A flow takes ``ask``: send one request (a :class:`~wire.protocol.messages.Message`) and
wait for its :class:`~wire.client.Result`, raising the client's errors. Each plug-in
passes its own (GIMP: a connection per run, progress to its bar; Krita: the worker
thread's connection, progress and cancel to the docker), and puts the result in.

Images are :func:`image_buffer` (rgba8, what the plug-in read) and guides
:func:`guide_buffer` (grey8 of the same size: the selection's coverage).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..client import Result, raw_image
from ..client.models import ModelChoice, pick
from ..protocol import messages
from ..protocol.messages import Buffer, Message
from .texts import NOTHING_SELECTED, Refused

Ask = Callable[[Message], Result]

OUTPUTS = ("selection", "mask", "layer")
"""Where Select Subject puts its matte: the selection, a new mask on the layer, a new cut-out layer."""


@dataclass(frozen=True)
class MatteOptions:
    """The user's choices for Select Subject and its kin (with a clean plate, Refine Selection).

    ``output``: one of :data:`OUTPUTS`; ``quality``: the refine mode ("best" or "fast");
    ``edges``: smooth, feather, contrast, shift_edge (absent or 0: untouched);
    ``decontaminate``: 0–1, how much a new layer's colours are cleaned; ``model``: a
    model the engine lists, None for its default (Refine Selection runs none).
    """

    output: str = "selection"
    quality: str = "best"
    edges: Mapping[str, float] = field(default_factory=dict)
    decontaminate: float = 1.0
    model: str | None = None

    def __post_init__(self) -> None:
        outputs_for(self.output)  # ValueError for an unknown output


def outputs_for(output: str) -> list[str]:
    """The buffers the insertion of ``output`` needs: ``alpha``, and ``foreground`` for a new layer."""
    if output not in OUTPUTS:
        raise ValueError(f"output: expected one of {OUTPUTS}; got {output!r}")
    return ["alpha", "foreground"] if output == "layer" else ["alpha"]


def active_edges(edges: Mapping[str, float] | None) -> dict[str, float]:
    """The edge controls that change something (non-zero), as floats, named as the protocol names
    them (``shift-edge`` → ``shift_edge``): sliders at rest send nothing."""
    return {key.replace("-", "_"): float(value) for key, value in (edges or {}).items() if float(value) != 0.0}


def requested_model(choices: Iterable[ModelChoice], wanted: str | None) -> str | None:
    """The ``model`` a request names: the user's pick while the engine offers it, or None for the
    engine's default (which it runs when none is named), so that every editor asks alike."""
    choices = list(choices)
    name = pick(choices, wanted)
    return None if any(c.default and c.name == name for c in choices) else name


def image_buffer(width: int, height: int, rgba: bytes) -> Buffer:
    """The request's ``image``: rgba8 pixels, row-major, top-down, ``width`` × ``height``."""
    return raw_image(width, height, "rgba8", rgba)


def guide_buffer(width: int, height: int, coverage: bytes) -> Buffer:
    """Refine Selection's ``guide``: the selection's coverage (grey8, 0–255) over the image."""
    return raw_image(width, height, "grey8", coverage, name="guide")


def check_guide(coverage: bytes) -> None:
    """Raise :class:`Refused` when the selection covers nothing (grey8 all 0): nothing to refine."""
    if not bytes(coverage).strip(b"\x00"):
        raise Refused(NOTHING_SELECTED)


def select_subject(ask: Ask, image: Buffer, options: MatteOptions, *, plate: Buffer | None = None) -> Result:
    """Select Subject (``select_subject``), or with ``plate`` (the clean plate buffer) ``plate_matte``:
    one request for ``options.output``'s buffers."""
    fields = {"outputs": outputs_for(options.output), "refine": options.quality,
              "edges": active_edges(options.edges), "decontaminate": options.decontaminate, "model": options.model}
    if plate is None:
        return ask(messages.select_subject(image, **fields))
    return ask(messages.plate_matte(image, plate, **fields))


def refine_selection(ask: Ask, image: Buffer, guide: Buffer, options: MatteOptions) -> Result:
    """Refine Selection: ``refine`` the rough selection (``guide``, a mask) in ``options.quality``, then
    ``adjust_edges`` on its result when an edge control or decontamination is asked for."""
    outputs = outputs_for(options.output)
    result = ask(messages.refine(image, guide, guide_kind="mask", mode=options.quality, outputs=outputs))
    edges = active_edges(options.edges)
    if edges or options.decontaminate != 1.0:
        result = ask(messages.adjust_edges(result.result_id, edges=edges, decontaminate=options.decontaminate,
                                           outputs=outputs))
    return result


def adjust_edges(ask: Ask, result_id: str, output: str, edges: Mapping[str, float] | None,
                 decontaminate: float = 1.0) -> Result:
    """New edge controls on the earlier result ``result_id`` (live sliders), for ``output``'s buffers."""
    return ask(messages.adjust_edges(result_id, edges=active_edges(edges), decontaminate=decontaminate,
                                     outputs=outputs_for(output)))


def soft_segments(ask: Ask, image: Buffer, count: int, model: str | None = None) -> Result:
    """Soft Segment Layers: ``image`` as ``count`` stacked soft layers (see :func:`.layers.segment_layers`)."""
    return ask(messages.soft_segments(image, count=count, masks="stacked", model=model))
