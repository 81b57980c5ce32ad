"""The image's last Softcut result: what Add to Subject and Subtract from Subject correct.

Every action that leaves a matte (Select Subject, also with a clean plate, Refine Selection, Object,
Add to Subject, Subtract from Subject) records it on the image, in its own undo group, as the
parasite :data:`PARASITE` (JSON; kept in XCF files and undone with the action): the engine's result
id, the source it was made from (the layer, by its tattoo, and the rectangle read; or the visible
image) and where its matte went, by tattoo:

- output ``selection``: the hidden channel :data:`MATTE_CHANNEL`, holding the matte as written (the
  selection itself soon holds the rough selection of the next correction);
- output ``mask``: the layer whose mask holds it;
- output ``layer``: the cut-out layer, whose mask holds it.

A correction names the result by its id; when the engine no longer holds it (restarted, or it let
the result go), that matte goes as pixels, read as it is now (painted on or not).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from . import document  # noqa: E402
from .wire.editor import Refused, no_previous  # noqa: E402

PARASITE = "softcut-last-result"
MATTE_CHANNEL = "Softcut matte"
# GIMP_PARASITE_PERSISTENT | GIMP_PARASITE_UNDOABLE: saved in XCF files, and part of the action's undo step
FLAGS = 1 | 2
VERSION = 1
GONE = ("the engine no longer holds the last Softcut result, and {what} that held its matte is gone: "
        "run Select Subject or Object again; {unchanged}")


@dataclass(frozen=True)
class Record:
    """The last result: the engine's ``result`` id; its source (``merged``: the visible image; ``layer``:
    the layer read, by tattoo; ``rect``: canvas pixels); ``output`` and ``holder`` (the tattoo of the
    channel, the layer with the mask, or the cut-out layer holding the matte)."""

    result: str
    merged: bool
    layer: int | None
    rect: tuple
    output: str
    holder: int


def read(image) -> Record | None:
    """The image's record, or None (none kept, or one this plug-in cannot read)."""
    parasite = image.get_parasite(PARASITE)
    if parasite is None:
        return None
    try:
        data = json.loads(bytes(parasite.get_data()).decode("utf-8"))
        if data.pop("version") != VERSION:
            return None
        return Record(**{**data, "rect": tuple(data["rect"])})
    except (ValueError, TypeError, KeyError):
        return None


def keep(image, source: document.Source, merged: bool, output: str, result_id: str, holder) -> None:
    """Record ``result_id`` as the image's last result, made from ``source`` and written to ``output``'s
    ``holder`` (the channel, the layer with the new mask, the cut-out layer). Call inside the undo group."""
    record = Record(result=result_id, merged=merged, layer=document.tattoo(source.layer), rect=tuple(source.rect),
                    output=output, holder=document.tattoo(holder))
    payload = json.dumps({"version": VERSION, **asdict(record)}).encode("utf-8")
    image.attach_parasite(Gimp.Parasite.new(PARASITE, FLAGS, payload))


def correction_source(image, drawables, merged: bool, record: Record | None) -> document.Source:
    """What Add to Subject and Subtract from Subject read: the source as Select Subject reads it, except
    that with the last result's cut-out layer picked (Cut Out leaves it picked) the layer it was cut from
    is read."""
    if record is not None and not merged and record.output == "layer" and record.layer is not None:
        picked = document.selected_layer(image, drawables)
        origin = image.get_layer_by_tattoo(record.layer)
        if document.tattoo(picked) == record.holder and origin is not None:
            drawables = [origin]
    return document.read_source(image, drawables, merged)


def check_same_source(record: Record | None, source: document.Source, merged: bool) -> None:
    """Raise :class:`Refused` unless ``record`` was made from ``source`` (the same layer at the same place,
    or the visible image over the same canvas)."""
    same = (record is not None and record.merged == merged and tuple(record.rect) == tuple(source.rect)
            and (merged or record.layer == document.tattoo(source.layer)))
    if not same:
        where = "the visible image" if merged else f"“{source.layer.get_name()}”"
        raise Refused(no_previous(where))


def rewritable(image, record: Record, source: document.Source, output: str):
    """What a correction's result is written over in place: the layer whose mask the last result is
    (output ``mask``), or the cut-out layer it is (output ``layer``), while it is still there as it was
    made; None: the result goes in as Select Subject's does."""
    if record.output != output or output == "selection":
        return None
    layer = image.get_layer_by_tattoo(record.holder)
    if layer is None or layer.get_mask() is None:
        return None
    if output == "mask":
        return layer if document.tattoo(layer) == document.tattoo(source.layer) else None
    return layer if tuple(document.extent(layer)) == tuple(source.rect) else None


def previous_matte(image, record: Record, unchanged: str) -> bytes:
    """The last result's matte as it is now (grey8 over its source rectangle), for an engine that no
    longer holds the result; :class:`Refused` when what held it is gone."""
    if record.output == "selection":
        drawable = image.get_channel_by_tattoo(record.holder)
        what = f"the channel “{MATTE_CHANNEL}”"
    else:
        layer = image.get_layer_by_tattoo(record.holder)
        drawable = None if layer is None else layer.get_mask()
        what = "the layer mask" if record.output == "mask" else "the cut-out layer's mask"
    if drawable is None:
        raise Refused(GONE.format(what=what, unchanged=unchanged))
    return document.read_coverage(drawable, record.rect)
