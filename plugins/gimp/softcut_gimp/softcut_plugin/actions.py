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

from . import document  # noqa: E402
from .wire import config  # noqa: E402
from .wire.client import ClientError, SoftcutClient  # noqa: E402
from .wire.editor import (SEGMENT_GROUP, MatteOptions, Refused, check_guide, failure, not_inserted,  # noqa: E402
                          not_reachable, refine_selection, segment_layers, select_subject, soft_segments)

UNCHANGED = "the image was not changed"
CLIENT_NAME = "softcut-gimp"


@dataclass(frozen=True)
class Engine:
    """Where ``softcut serve`` listens."""

    host: str = config.DEFAULT_HOST
    port: int = config.DEFAULT_PORT


@dataclass(frozen=True)
class Options:
    """A Select Subject procedure's parameters (see :mod:`.procedures` for their ranges): the
    matte's, whether the visible image is read (``merged``), the engine."""

    matte: MatteOptions = field(default_factory=MatteOptions)
    merged: bool = False
    engine: Engine = Engine()


def run(image, drawables, options: Options, *, guided: bool = False) -> None:
    """Run Select Subject (or, ``guided``, Refine Selection: the selection is the guide) into the output,
    as one undo group.

    Raises :class:`Refused` with a message for the user: the image is untouched when
    the image cannot be used or the engine fails (the message says so).
    """
    source, guide = _read_subject(image, drawables, options, guided=guided)
    if guide is None:
        result = _ask(options.engine, lambda ask: select_subject(ask, source, options.matte))
    else:
        result = _ask(options.engine, lambda ask: refine_selection(ask, source, guide, options.matte))
    _edit(image, lambda: _insert(image, source, options.matte.output, result.buffers))


def run_plate(image, drawables, options: Options, *, layer=None, file=None) -> None:
    """Select Subject with Clean Plate into the output, as one undo group.

    The image sent is Select Subject's (the same source, rectangle and checks); the plate
    is ``file`` (a ``Gio.File``) when given, else the whole of ``layer`` (of any open image).
    Raises :class:`Refused` as :func:`run` does (the image untouched), also before any
    request when no plate is given or the plate is the layer being cut out.
    """
    if file is None and layer is None:
        raise Refused("no clean plate was given: pick the layer (Plate layer) or the file (Or plate file) "
                      f"holding a photo of the same scene without the subject; {UNCHANGED}")
    source, _ = _read_subject(image, drawables, options)
    with _reading():
        if file is not None:
            buffer = document.read_plate_file(file)
        else:
            document.check_plate_layer(image, source, layer, options.merged)
            buffer = document.read_plate_layer(layer)
    result = _ask(options.engine, lambda ask: select_subject(ask, source, options.matte, plate=buffer))
    _edit(image, lambda: _insert(image, source, options.matte.output, result.buffers))


def _read_subject(image, drawables, options: Options, *, guided: bool = False):
    """Select Subject's source (and, for Refine Selection, the selection as its guide), checked
    for the output; a :class:`document.DocumentError` becomes :class:`Refused`."""
    with _reading():
        source = document.read_source(image, drawables, options.merged)
        guide = document.read_selection(image, source.rect) if guided else None
        if guide is not None:
            check_guide(guide)
        if options.matte.output == "mask":  # known before the engine runs, so it does not run for nothing
            if source.layer is None:
                raise document.DocumentError("select the one layer the mask belongs to")
            document.check_can_take_mask(source.layer)
    return source, guide


@contextmanager
def _reading() -> Iterator[None]:
    """Reading the image (nothing written yet): a :class:`document.DocumentError` or a refusal
    becomes :class:`Refused`, its message saying the image was not changed."""
    try:
        yield
    except (document.DocumentError, Refused) as exc:
        raise Refused(f"{exc}; {UNCHANGED}") from exc


def run_segments(image, drawables, count: int, engine: Engine, model: str | None = None) -> None:
    """Soft Segment Layers: the visible image as ``count`` soft layers (2–10), each with a layer
    mask, in a new layer group on top of the stack, by ``model``; one undo group.

    Raises :class:`Refused` as :func:`run` does (the image untouched).
    """
    with _reading():
        source = document.read_source(image, drawables, merged=True)
    result = _ask(engine, lambda ask: soft_segments(ask, source, count, model))
    _edit(image, lambda: document.add_segment_group(image, source.rect, segment_layers(result), source.rgba,
                                                    SEGMENT_GROUP))


def _edit(image, insert: Callable[[], object]) -> None:
    """``insert()`` as one undo group; a :class:`document.DocumentError` becomes :class:`Refused`."""
    image.undo_group_start()
    try:
        insert()
    except document.DocumentError as exc:
        raise Refused(not_inserted(exc)) from exc
    finally:
        image.undo_group_end()
        Gimp.displays_flush()


def _ask(address: Engine, flow: Callable):
    """``flow(ask)`` (a :mod:`wire.editor` flow) on a connection to the engine; its result.

    Progress goes to GIMP's progress bar; every failure becomes :class:`Refused`
    with a message for the user.
    """
    Gimp.progress_init("Softcut: waiting for the engine")

    def progress(fraction: float, stage: str) -> None:
        Gimp.progress_set_text(f"Softcut: {stage}")
        Gimp.progress_update(min(max(fraction, 0.0), 1.0))

    try:
        with SoftcutClient(address.host, address.port, name=CLIENT_NAME, timeout=600.0) as engine:
            return flow(lambda message: engine.request(message, progress=progress))
    except ClientError as exc:
        raise Refused(failure(exc, UNCHANGED)) from exc
    finally:
        Gimp.progress_end()


def engine_models(address: Engine) -> list:
    """The engine's model list (its welcome's), for the dialog; :class:`Refused` when it does not answer."""
    try:
        with SoftcutClient(address.host, address.port, name=CLIENT_NAME, timeout=5.0) as engine:
            return list(engine.welcome.get("models", []))
    except (ClientError, OSError) as exc:
        raise Refused(not_reachable(exc)) from exc


def _insert(image, source: document.Source, output: str, buffers: dict) -> None:
    alpha = buffers["alpha"]
    if output == "selection":
        document.set_selection(image, source.rect, alpha)
    elif output == "mask":
        document.add_layer_mask(source.layer, source.rect, alpha)
    else:
        document.add_cutout_layer(image, source.layer, source.rect, buffers["foreground"], alpha, "Softcut cut-out")
