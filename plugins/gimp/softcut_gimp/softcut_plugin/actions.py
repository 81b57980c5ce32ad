"""What a procedure does: read the image, ask the engine, insert the result.

Every procedure goes the same three steps: read (:mod:`.document`), ask the
engine (:func:`_ask`: connection, progress, errors), insert (:func:`_edit`: one
undo group). The image is only read until the engine's answer is in; everything
written then goes in one undo group. A refused image, a missing or dying engine
leave the image exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from . import document, pixels  # noqa: E402
from .wire import config  # noqa: E402
from .wire.client import (ClientError, EngineError, EngineUnavailable, JobCancelledError, SoftcutClient,  # noqa: E402
                     jpeg_image, png_image, raw_image)
from .wire.client.editor import SEGMENT_GROUP  # noqa: E402
from .wire.protocol import messages  # noqa: E402
from .wire.protocol.errors import ErrorCode  # noqa: E402
from .wire.protocol.schemas import DEFAULT_SEGMENTS  # noqa: E402

START_COMMAND = "softcut serve"
UNCHANGED = "the image was not changed"


class Refused(Exception):
    """The procedure did nothing; the message is for the user."""


SEGMENT_LAYER = "Segment {number}"  # numbered from 1, the bottom layer (the engine's segment0, the largest)


@dataclass(frozen=True)
class Engine:
    """Where ``softcut serve`` listens."""

    host: str = config.DEFAULT_HOST
    port: int = config.DEFAULT_PORT


@dataclass
class Options:
    """A Select Subject procedure's parameters (see :mod:`.procedures` for their ranges)."""

    output: str = "selection"  # "selection", "mask" or "layer" (GIMP's choice argument checks it)
    merged: bool = False
    quality: str = "best"
    edges: dict = field(default_factory=dict)
    decontaminate: float = 1.0
    engine: Engine = Engine()
    model: str | None = None  # a model the engine lists; None: its default


@dataclass(frozen=True)
class SegmentOptions:
    """Soft Segment Layers' parameters: ``count`` layers (2–10, the protocol checks it too), the ``model``."""

    count: int = DEFAULT_SEGMENTS
    engine: Engine = Engine()
    model: str | None = None


@dataclass(frozen=True)
class PlateChoice:
    """Where Select Subject with Clean Plate takes the plate from: ``file`` (a ``Gio.File``) when
    given, else ``layer`` (a layer of any open image); both None: no plate was given."""

    layer: object = None
    file: object = None


def run(image, drawables, options: Options, *, refine_selection: bool = False) -> None:
    """Run Select Subject (or Refine Selection) into ``options.output``, as one undo group.

    Raises :class:`Refused` with a message for the user: the image is untouched when
    the image cannot be used or the engine fails (the message says so).
    """
    source, guide = _read_subject(image, drawables, options, refine_selection=refine_selection)
    if guide is not None and pixels.is_blank(guide):
        raise Refused(f"nothing is selected over the layer: draw a rough selection around the subject first; {UNCHANGED}")

    buffers = _ask(options.engine, lambda engine, progress: _matte(engine, progress, source, guide, options))
    _edit(image, lambda: _insert(image, source, options.output, buffers))


def run_plate(image, drawables, options: Options, plate: PlateChoice) -> None:
    """Select Subject with Clean Plate into ``options.output``, as one undo group.

    The image sent is Select Subject's (the same source, rectangle and checks); the plate
    is ``plate.file`` when given, else the whole of ``plate.layer`` at its own size.
    Raises :class:`Refused` as :func:`run` does (the image untouched), also before any
    request when no plate is given or the plate is the layer being cut out.
    """
    if plate.file is None and plate.layer is None:
        raise Refused("no clean plate was given: pick the layer (Plate layer) or the file (Or plate file) "
                      f"holding a photo of the same scene without the subject; {UNCHANGED}")
    source, _ = _read_subject(image, drawables, options)
    with _reading():
        if plate.file is not None:
            got = document.read_plate_file(plate.file)
        else:
            document.check_plate_layer(image, source, plate.layer, options.merged)
            got = document.read_plate_layer(plate.layer)
        buffer = _plate_buffer(got)

    def ask(engine: SoftcutClient, progress) -> object:
        return engine.plate_matte(_image(source), buffer, outputs=_outputs(options), refine=options.quality,
                                  edges=options.edges, decontaminate=options.decontaminate, model=options.model,
                                  progress=progress)

    buffers = _ask(options.engine, ask)
    _edit(image, lambda: _insert(image, source, options.output, buffers))


def _read_subject(image, drawables, options: Options, *, refine_selection: bool = False):
    """Select Subject's source (and, for Refine Selection, the selection as its guide), checked
    for ``options.output``; a :class:`document.DocumentError` becomes :class:`Refused`."""
    with _reading():
        source = document.read_source(image, drawables, options.merged)
        guide = document.read_selection(image, source.rect) if refine_selection else None
        if options.output == "mask":  # known before the engine runs, so it does not run for nothing
            if source.layer is None:
                raise document.DocumentError("select the one layer the mask belongs to")
            document.check_can_take_mask(source.layer)
    return source, guide


@contextmanager
def _reading() -> Iterator[None]:
    """Reading the image (nothing written yet): a :class:`document.DocumentError` becomes
    :class:`Refused`, its message saying the image was not changed."""
    try:
        yield
    except document.DocumentError as exc:
        raise Refused(f"{exc}; {UNCHANGED}") from exc


def _plate_buffer(plate: document.Plate):
    """The request's ``plate`` buffer: raw rgba8 pixels, or a PNG or JPEG file as it is."""
    try:
        if plate.format == "png":
            return png_image(plate.data, name="plate")
        if plate.format == "jpeg":
            return jpeg_image(plate.data, name="plate")
    except ValueError as exc:
        raise document.DocumentError(f"the plate file “{plate.name}” is not a readable image ({exc})") from exc
    return raw_image(plate.width, plate.height, "rgba8", plate.data, name="plate")


def run_segments(image, drawables, options: SegmentOptions) -> None:
    """Soft Segment Layers: the visible image as ``options.count`` soft layers, each with a
    layer mask, in a new layer group on top of the stack; one undo group.

    Raises :class:`Refused` as :func:`run` does (the image untouched).
    """
    with _reading():
        source = document.read_source(image, drawables, merged=True)

    def ask(engine: SoftcutClient, progress) -> object:
        return engine.soft_segments(_image(source), count=options.count, masks="stacked", model=options.model,
                                    progress=progress)

    buffers = _ask(options.engine, ask)
    segments = [bytes(buffers[f"segment{k}"]) for k in range(len(buffers))]
    _edit(image, lambda: document.add_segment_group(image, source.rect, segments, source.rgba, SEGMENT_GROUP,
                                                    SEGMENT_LAYER))


def _edit(image, insert: Callable[[], object]) -> None:
    """``insert()`` as one undo group; a :class:`document.DocumentError` becomes :class:`Refused`."""
    image.undo_group_start()
    try:
        insert()
    except document.DocumentError as exc:
        raise Refused(f"the result could not be inserted: {exc}") from exc
    finally:
        image.undo_group_end()
        Gimp.displays_flush()


def _image(source: document.Source):
    """The request's ``image`` buffer: what was read (rgba8)."""
    return raw_image(source.width, source.height, "rgba8", source.rgba)


def _outputs(options: Options) -> list:
    """The buffers the insertion needs: ``alpha``, and ``foreground`` for a new layer."""
    return ["alpha", "foreground"] if options.output == "layer" else ["alpha"]


def _matte(engine: SoftcutClient, progress, source: document.Source, guide: bytes | None, options: Options):
    """Select Subject's (or Refine Selection's) request(s); the result with ``alpha`` (and ``foreground``)."""
    outputs = _outputs(options)
    image = _image(source)
    if guide is None:
        return engine.request(messages.select_subject(
            image, outputs=outputs, refine=options.quality, edges=options.edges,
            decontaminate=options.decontaminate, model=options.model), progress=progress)
    rough = raw_image(source.width, source.height, "grey8", guide, name="guide")
    result = engine.request(messages.refine(image, rough, guide_kind="mask", mode=options.quality,
                                            outputs=outputs), progress=progress)
    if any(options.edges.values()) or options.decontaminate != 1.0:
        result = engine.request(messages.adjust_edges(
            result.result_id, edges=options.edges, decontaminate=options.decontaminate,
            outputs=outputs), progress=progress)
    return result


def _ask(address: Engine, request: Callable) -> dict:
    """``request(engine, progress)`` on a connection to the engine; its result's buffers.

    Progress goes to GIMP's progress bar; every failure becomes :class:`Refused`
    with a message for the user.
    """
    Gimp.progress_init("Softcut: waiting for the engine")

    def progress(fraction: float, stage: str) -> None:
        Gimp.progress_set_text(f"Softcut: {stage}")
        Gimp.progress_update(min(max(fraction, 0.0), 1.0))

    try:
        with SoftcutClient(address.host, address.port, name="softcut-gimp", timeout=600.0) as engine:
            result = request(engine, progress)
    except EngineUnavailable as exc:
        raise Refused(f"the Softcut engine is not reachable ({exc}). Start it with `{START_COMMAND}`; {UNCHANGED}") from exc
    except JobCancelledError as exc:
        raise Refused(f"cancelled; {UNCHANGED}") from exc
    except EngineError as exc:
        if exc.code == ErrorCode.ALIGNMENT_FAILED:  # plate_matte's: the message says what is wrong with the plate
            raise Refused(f"{exc.message}; {UNCHANGED}") from exc
        raise Refused(f"the engine could not do it: {exc.message} ({exc.code}); {UNCHANGED}") from exc
    except ClientError as exc:
        raise Refused(f"Softcut failed: {exc}; {UNCHANGED}") from exc
    finally:
        Gimp.progress_end()
    return result.buffers


def engine_models(address: Engine) -> list:
    """The engine's model list (its welcome's), for the dialog; :class:`Refused` when it does not answer."""
    try:
        with SoftcutClient(address.host, address.port, name="softcut-gimp", timeout=5.0) as engine:
            return list(engine.welcome.get("models", []))
    except (ClientError, OSError) as exc:
        raise Refused(f"the Softcut engine is not reachable ({exc})") from exc


def _insert(image, source: document.Source, output: str, buffers: dict) -> None:
    alpha = buffers["alpha"]
    if output == "selection":
        document.set_selection(image, source.rect, alpha)
    elif output == "mask":
        document.add_layer_mask(source.layer, source.rect, alpha)
    else:
        document.add_cutout_layer(image, source.layer, source.rect, buffers["foreground"], alpha, "Softcut cut-out")
