"""What a procedure does: read the image, ask the engine, insert the result.

The image is only read until the engine's answer is in; everything written
then goes in one undo group. A refused image, a missing or dying engine leave
the image exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from . import config, document, pixels  # noqa: E402
from .client import ClientError, EngineError, EngineUnavailable, JobCancelledError, SoftcutClient, raw_image  # noqa: E402
from .protocol import messages  # noqa: E402

START_COMMAND = "softcut serve"
UNCHANGED = "the image was not changed"


class Refused(Exception):
    """The procedure did nothing; the message is for the user."""


@dataclass
class Options:
    """A procedure's parameters (see :mod:`.procedures` for their ranges)."""

    output: str = "selection"  # "selection", "mask" or "layer" (GIMP's choice argument checks it)
    merged: bool = False
    quality: str = "best"
    edges: dict = field(default_factory=dict)
    decontaminate: float = 1.0
    host: str = config.DEFAULT_HOST
    port: int = config.DEFAULT_PORT


def run(image, drawables, options: Options, *, refine_selection: bool = False) -> None:
    """Run Select Subject (or Refine Selection) into ``options.output``, as one undo group.

    Raises :class:`Refused` with a message for the user: the image is untouched when
    the image cannot be used or the engine fails (the message says so).
    """
    try:
        source = document.read_source(image, drawables, options.merged)
        guide = document.read_selection(image, source.rect) if refine_selection else None
        if options.output == "mask":  # known before the engine runs, so it does not run for nothing
            if source.layer is None:
                raise document.DocumentError("select the one layer the mask belongs to")
            document.check_can_take_mask(source.layer)
    except document.DocumentError as exc:
        raise Refused(f"{exc}; {UNCHANGED}") from exc
    if guide is not None and pixels.is_blank(guide):
        raise Refused(f"nothing is selected over the layer: draw a rough selection around the subject first; {UNCHANGED}")

    buffers = _ask_engine(source, guide, options)
    image.undo_group_start()
    try:
        _insert(image, source, options.output, buffers)
    except document.DocumentError as exc:
        raise Refused(f"the result could not be inserted: {exc}") from exc
    finally:
        image.undo_group_end()
        Gimp.displays_flush()


def _ask_engine(source: document.Source, guide: bytes | None, options: Options) -> dict:
    outputs = ["alpha", "foreground"] if options.output == "layer" else ["alpha"]
    image = raw_image(source.width, source.height, "rgba8", source.rgba)
    Gimp.progress_init("Softcut: waiting for the engine")

    def progress(fraction: float, stage: str) -> None:
        Gimp.progress_set_text(f"Softcut: {stage}")
        Gimp.progress_update(min(max(fraction, 0.0), 1.0))

    try:
        with SoftcutClient(options.host, options.port, name="softcut-gimp", timeout=600.0) as engine:
            if guide is None:
                result = engine.request(messages.select_subject(
                    image, outputs=outputs, refine=options.quality, edges=options.edges,
                    decontaminate=options.decontaminate), progress=progress)
            else:
                rough = raw_image(source.width, source.height, "grey8", guide, name="guide")
                result = engine.request(messages.refine(image, rough, guide_kind="mask", mode=options.quality,
                                                        outputs=outputs), progress=progress)
                if any(options.edges.values()) or options.decontaminate != 1.0:
                    result = engine.request(messages.adjust_edges(
                        result.result_id, edges=options.edges, decontaminate=options.decontaminate,
                        outputs=outputs), progress=progress)
    except EngineUnavailable as exc:
        raise Refused(f"the Softcut engine is not reachable ({exc}). Start it with `{START_COMMAND}`; {UNCHANGED}") from exc
    except JobCancelledError as exc:
        raise Refused(f"cancelled; {UNCHANGED}") from exc
    except EngineError as exc:
        raise Refused(f"the engine could not do it: {exc.message} ({exc.code}); {UNCHANGED}") from exc
    except ClientError as exc:
        raise Refused(f"Softcut failed: {exc}; {UNCHANGED}") from exc
    finally:
        Gimp.progress_end()
    return result.buffers


def _insert(image, source: document.Source, output: str, buffers: dict) -> None:
    alpha = buffers["alpha"]
    if output == "selection":
        document.set_selection(image, source.rect, alpha)
    elif output == "mask":
        document.add_layer_mask(source.layer, source.rect, alpha)
    else:
        document.add_cutout_layer(image, source.layer, source.rect, buffers["foreground"], alpha, "Softcut cut-out")
