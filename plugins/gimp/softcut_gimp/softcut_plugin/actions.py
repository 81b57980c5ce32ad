"""What a procedure does: read the image, ask the engine, insert the result.

Every procedure goes the same three steps: read (:mod:`.document`, inside :func:`reading`), ask the
engine (:func:`ask_engine`: connection, progress, errors), insert (:func:`edit`: one undo group). The
image is only read until the engine's answer is in; everything written then goes in one undo group,
with the record of the image's last result (:mod:`.last_result`) when the action leaves a matte. A
refused image, a missing or dying engine leave the image exactly as it was. Object Selection's
actions are in :mod:`.objects`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from . import document, last_result  # noqa: E402
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
        result = ask_engine(options.engine, lambda ask: select_subject(ask, source, options.matte))
    else:
        result = ask_engine(options.engine, lambda ask: refine_selection(ask, source, guide, options.matte))
    edit(image, lambda: insert_result(image, source, options, result))


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
    with reading():
        if file is not None:
            buffer = document.read_plate_file(file)
        else:
            document.check_plate_layer(image, source, layer, options.merged)
            buffer = document.read_plate_layer(layer)
    result = ask_engine(options.engine, lambda ask: select_subject(ask, source, options.matte, plate=buffer))
    edit(image, lambda: insert_result(image, source, options, result))


def _read_subject(image, drawables, options: Options, *, guided: bool = False):
    """Select Subject's source (and, for Refine Selection, the selection as its guide), checked
    for the output; a :class:`document.DocumentError` becomes :class:`Refused`."""
    with reading():
        source = document.read_source(image, drawables, options.merged)
        guide = document.read_selection(image, source.rect) if guided else None
        if guide is not None:
            check_guide(guide)
        check_output(source, options.matte.output)
    return source, guide


def check_output(source: document.Source, output: str) -> None:
    """Raise :class:`document.DocumentError` when ``output`` cannot take a new result from ``source`` (a new
    mask needs its one layer, without a mask): known before the engine runs, so it does not run for nothing."""
    if output == "mask":
        if source.layer is None:
            raise document.DocumentError("select the one layer the mask belongs to")
        document.check_can_take_mask(source.layer)


@contextmanager
def reading() -> Iterator[None]:
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
    with reading():
        source = document.read_source(image, drawables, merged=True)
    result = ask_engine(engine, lambda ask: soft_segments(ask, source, count, model))
    edit(image, lambda: document.add_segment_group(image, source.rect, segment_layers(result), source.rgba,
                                                    SEGMENT_GROUP))


def edit(image, write: Callable[[], object]) -> None:
    """``write()`` as one undo group; a :class:`document.DocumentError` becomes :class:`Refused`."""
    image.undo_group_start()
    try:
        write()
    except document.DocumentError as exc:
        raise Refused(not_inserted(exc)) from exc
    finally:
        image.undo_group_end()
        Gimp.displays_flush()


def ask_engine(address: Engine, flow: Callable):
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


def insert_result(image, source: document.Source, options: Options, result, into=None) -> None:
    """Put ``result`` (an engine's matte answer for ``source``) where ``options`` say, and record it as the
    image's last result. ``into``: the layer whose mask (output ``mask``) or the cut-out layer (output
    ``layer``) to rewrite in place (:func:`last_result.rewritable`); None: a new mask or layer.
    Call inside :func:`edit`."""
    output = options.matte.output
    holder = _write_result(image, source, output, result.buffers, into)
    if result.result_id is not None:
        last_result.keep(image, source, options.merged, output, result.result_id, holder)


def _write_result(image, source: document.Source, output: str, buffers: dict, into=None):
    """Write the matte (and for a layer the colours); returns what holds the matte: the selection's matte
    channel, the layer with the mask, the cut-out layer."""
    alpha = buffers["alpha"]
    if output == "selection":
        document.set_selection(image, source.rect, alpha)
        return document.keep_matte_channel(image, last_result.MATTE_CHANNEL, source.rect, alpha)
    if output == "mask":
        if into is not None:
            document.rewrite_mask(into, source.rect, alpha)
            return into
        document.add_layer_mask(source.layer, source.rect, alpha)
        return source.layer
    if into is not None:
        document.rewrite_cutout_layer(into, source.rect, buffers["foreground"], alpha)
        return into
    return document.add_cutout_layer(image, source.layer, source.rect, buffers["foreground"], alpha,
                                     "Softcut cut-out")
