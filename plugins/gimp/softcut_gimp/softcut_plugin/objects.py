"""Object Selection's procedures: Object, Add to Subject, Subtract from Subject.

They read, ask and insert as Select Subject does (:mod:`.actions`), with ``select_object``
(:func:`wire.editor.select_object`: the image named by its key, its pixels sent only when the engine
asks) and prompts from the image (:mod:`wire.editor.prompts`' rules):

- Object: the box is the bounds of the selection over the source; the clicks are the anchors of the
  path named “Softcut points” (else of the selected path): its first stroke's on the object, later
  strokes' off it. The result goes in as Select Subject's does.
- Add to Subject, Subtract from Subject: the selection is a rough mask of the part to add or take
  away; ``previous`` is the image's last Softcut result (:mod:`.last_result`), which must come from
  the same source. The result replaces it in place when the output is the same kind (the same layer
  mask, the same cut-out layer; the selection always), else goes in as Select Subject's does.

Every refusal comes before anything is sent; the image is then left as it was.
"""

from __future__ import annotations

from . import document, last_result
from .actions import UNCHANGED, Options, ask_engine, check_output, edit, insert_result, reading
from .wire.editor import POINTS_PATH, Refused, clicks, object_prompts, rough_prompts, select_object

MODES = ("new", "add", "subtract")  # Object, Add to Subject, Subtract from Subject
NOTHING_MARKED = (f"nothing is selected over the layer and no path marks the object: select around the object "
                  f"(the selection's bounds are the box), or mark it with the anchors of a path (the one named "
                  f"“{POINTS_PATH}”, else the selected one): its first stroke's on the object, later strokes' off it")


def run(image, drawables, options: Options, mode: str) -> None:
    """Object (``mode`` "new"), Add to Subject ("add") or Subtract from Subject ("subtract") into the
    output, as one undo group that also records the result as the image's last.

    Raises :class:`Refused` with a message for the user, the image untouched: nothing marks an
    object, nothing (or too faint) selected for a correction, no earlier result of the same source,
    the engine missing or failing, or its previous result lost along with the matte that held it.
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}; got {mode!r}")
    if mode == "new":
        source, prompts = _object_prompts(image, drawables, options)
        result = ask_engine(options.engine, lambda ask: select_object(ask, source, prompts, options.matte))
        edit(image, lambda: insert_result(image, source, options, result))
        return
    record, source, prompts, into = _correction(image, drawables, options)

    def previous_coverage() -> bytes:  # asked for only when the engine no longer holds the result
        return last_result.previous_matte(image, record, UNCHANGED)

    result = ask_engine(options.engine, lambda ask: select_object(
        ask, source, prompts, options.matte, mode=mode, previous=record.result, previous_coverage=previous_coverage))
    edit(image, lambda: insert_result(image, source, options, result, into))


def _object_prompts(image, drawables, options: Options):
    """Object's source and prompts: the box around the selection, the points path's anchors as clicks."""
    with reading():
        source = document.read_source(image, drawables, options.merged)
        check_output(source, options.matte.output)
        coverage = document.read_selection(image, source.rect)
        path = document.points_path(image)
        points, _outside = clicks(document.path_strokes(path) if path is not None else [], source.rect)
        prompts = object_prompts(coverage, source.width, source.height, points)
        if prompts is None:
            raise Refused(NOTHING_MARKED)
    return source, prompts


def _correction(image, drawables, options: Options):
    """Add's and Subtract's record of the last result, source, prompt (the selection as a rough mask) and
    what the result rewrites in place (None: it goes in anew)."""
    with reading():
        record = last_result.read(image)
        source = last_result.correction_source(image, drawables, options.merged, record)
        last_result.check_same_source(record, source, options.merged)
        prompts = rough_prompts(document.read_selection(image, source.rect))
        into = last_result.rewritable(image, record, source, options.matte.output)
        if into is None:
            check_output(source, options.matte.output)
    return record, source, prompts, into
