"""Object Selection: the Krita side of Object, Add to Subject and Subtract from Subject.

Like :mod:`.document`, this is code that touches Krita documents, and all of it runs on the GUI
thread; the requests are :func:`wire.editor.select_object`'s, the prompt rules
:mod:`wire.editor.prompts`' (the same in GIMP and Photoshop). What the document gives:

- **the box**: the bounds of every pixel of the selection over the source (selected at all);
- **the clicks**: Krita's Python (5.1) cannot map a click on the canvas widget to image pixels (a
  view's zoom, scroll, rotation and mirroring are not all exposed), so clicks are marks left in the
  document: every shape of a vector layer named "Softcut points" (any case: the name of GIMP's and
  Photoshop's clicks path) is a positive click (on the object), every shape of a vector layer named
  "Softcut negative points" a negative one (on what is not the object), each at the centre of its
  bounding box (draw small circles with the Ellipse tool). These are the shared rule's first stroke
  and later strokes; shapes hidden with Krita's shape tools are left out, the layers are read hidden
  or not, and marks outside the source are left out;
- **the rough mask** (Add, Subtract): the selection over the source, which needs a pixel selected
  50% or more;
- **the previous result** (Add, Subtract): the document's last Softcut result
  (:class:`~.results.LastResults`) made from the same source (the same layer at the same place, or
  the merged image), sent as its result id; its matte as it is now (the mask or the cut-out layer's
  mask, read before the request; the matte the plug-in wrote for a selection) goes instead when the
  engine no longer holds that id. With the cut-out layer of the last result active, the correction
  is made from the layer it was cut from.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import document
from .results import Inserted
from .wire.editor import ObjectPrompts, Refused, no_previous
from .wire.editor.prompts import (
    POINTS_PATH,
    check_clicks,
    clicks,
    is_points_path,
    object_prompts,
    rough_prompts,
)

MODES = {"object": "new", "add": "add", "subtract": "subtract"}
"""Each action (its kind) → the engine's ``mode``."""
NEGATIVE_POINTS_LAYER = "Softcut negative points"
"""The vector layer whose shapes are negative clicks (compared without regard to case)."""
POINTS_PER_INCH = 72.0  # Krita keeps vector shapes in points (1/72 inch)
NOTHING_MARKED = (f"nothing is selected over the layer and no shape of a vector layer '{POINTS_PATH}' marks an "
                  f"object on it: select a rectangle around the object, or draw small circles on it in a vector "
                  f"layer named '{POINTS_PATH}', first")
DONE = {"new": "object", "add": "part added to the subject", "subtract": "part taken from the subject"}
INTO = {"selection": "in the selection", "mask": "in a transparency mask", "layer": "in a new layer"}


@dataclass
class ObjectPlan:
    """One Object Selection request, read from the document before it is sent.

    source: the image (:class:`~.document.SourceImage`). prompts: the box, clicks or rough mask. mode: the
    engine's. last: the result corrected (Add, Subtract; None for Object). previous_coverage: ``last``'s
    matte as it is now (grey8 over the source), sent if the engine no longer holds ``last.result_id``.
    """

    source: document.SourceImage
    prompts: ObjectPrompts
    mode: str
    last: Inserted | None = None
    previous_coverage: bytes | None = None

    @property
    def previous(self) -> str | None:
        return None if self.last is None else self.last.result_id


def mode_of(kind: str) -> str:
    """The engine's mode for ``kind`` ("object", "add" or "subtract"); ValueError for anything else."""
    if kind not in MODES:
        raise ValueError(f"kind: expected one of {sorted(MODES)}; got {kind!r}")
    return MODES[kind]


def is_negative_points_layer(name: object) -> bool:
    """Whether ``name`` names the negative clicks' layer (any case, spaces around ignored)."""
    return isinstance(name, str) and name.strip().casefold() == NEGATIVE_POINTS_LAYER.casefold()


def shape_centre(shape, x_res: float, y_res: float) -> tuple[float, float]:
    """The centre of ``shape``'s bounding box in canvas pixels (``x_res``, ``y_res``: the document's pixels per inch)."""
    box = shape.boundingBox()
    x = (box.x() + box.width() / 2) * x_res / POINTS_PER_INCH
    y = (box.y() + box.height() / 2) * y_res / POINTS_PER_INCH
    return round(x, 2), round(y, 2)


def marks(doc) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The centres (canvas pixels) of the visible shapes of the positive and the negative points layers."""
    positive: list[tuple[float, float]] = []
    negative: list[tuple[float, float]] = []
    for node in document.layers_top_down(doc):
        if node.type() != "vectorlayer":
            continue
        side = positive if is_points_path(node.name()) else negative if is_negative_points_layer(node.name()) else None
        if side is not None:
            side.extend(shape_centre(s, doc.xRes(), doc.yRes()) for s in node.shapes() if s.visible())
    return positive, negative


def check_active_layer(doc) -> None:
    """Refused when the active layer is a points layer: its shapes are clicks, not the image to cut from."""
    try:
        node = document.source_layer(doc)
    except document.DocumentError:
        return  # reading the source says why
    if node.type() == "vectorlayer" and (is_points_path(node.name()) or is_negative_points_layer(node.name())):
        raise Refused(f"the active layer '{node.name()}' holds clicks, not the image: make the layer to cut the "
                      f"object from active (the points layers are read whichever layer is active)")


def selection_coverage(doc, rect: tuple[int, int, int, int]) -> bytes:
    """The global selection inside ``rect`` as grey8 (all 0 when nothing is selected)."""
    selection = doc.selection()
    return bytes(rect[2] * rect[3]) if selection is None else bytes(selection.pixelData(*rect))


def object_plan(doc, source: document.SourceImage) -> ObjectPlan:
    """Object's request: the box around the selection and the points layers' clicks; Refused when neither marks anything."""
    rect = (source.x, source.y, source.width, source.height)
    points, _outside = clicks(marks(doc), rect)
    check_clicks(points, f"the shapes of the '{POINTS_PATH}' and '{NEGATIVE_POINTS_LAYER}' layers")
    prompts = object_prompts(selection_coverage(doc, rect), source.width, source.height, points)
    if prompts is None:
        raise Refused(NOTHING_MARKED)
    return ObjectPlan(source, prompts, "new")


def correction_plan(doc, source: document.SourceImage, mode: str, last: Inserted | None) -> ObjectPlan:
    """Add's or Subtract's request: the selection as a rough mask, taken into ``last`` (the document's last result).

    Refused (said before anything is sent) when ``last`` was not made from this source, or the selection
    is no rough mask. With ``last``'s cut-out layer as the source, the layer it was cut from is read instead.
    """
    if last is not None and last.output == "layer" and source.node_id is not None and source.node_id == last.node_id:
        if last.source_id is None:  # cut from the merged image
            source = document.read_source(doc, merged=True)
        elif (cut_from := document.find_node(doc, last.source_id)) is not None:
            source = document.read_source(doc, merged=False, node=cut_from)
    rect = (source.x, source.y, source.width, source.height)
    if last is None or last.result_id is None or not last.same_source(source.node_id, rect):
        raise Refused(no_previous("the merged image" if source.node_id is None else f"'{_name(doc, source)}'"))
    prompts = rough_prompts(selection_coverage(doc, rect))
    return ObjectPlan(source, prompts, mode, last, matte_now(doc, last))


def matte_now(doc, last: Inserted) -> bytes:
    """``last``'s matte as it is now (grey8 over its rect): its mask (a cut-out layer's mask) as the user may have
    painted it, else the matte the plug-in wrote (a selection's, or one whose mask is gone)."""
    node = document.find_node(doc, last.node_id) if last.node_id is not None else None
    if node is not None and last.output == "layer":
        node = next((c for c in node.childNodes() if c.type() == "transparencymask"), None)
    if node is None:
        return last.alpha
    data = bytes(node.pixelData(*last.rect))
    return data if len(data) == last.rect[2] * last.rect[3] else last.alpha


def earlier_node(doc, plan: ObjectPlan, output: str):
    """What the result goes over: for a mask, the last result's mask to replace (when it is still on the source
    layer); for a new layer, the last result's cut-out layer to go above (when it is still there); else None."""
    last = plan.last
    if last is None or last.output != output or last.node_id is None or output == "selection":
        return None
    node = document.find_node(doc, last.node_id)
    if node is None or output == "layer":
        return node
    parent = node.parentNode()
    layer_id = plan.source.node_id if plan.source.node_id is not None else _active_layer_id(doc)
    return node if parent is not None and parent.uniqueId() == layer_id else None


def done_message(mode: str, output: str) -> str:
    """What the user reads when the result is in."""
    if mode == "new":
        return {"selection": "object selected", "mask": "object masked", "layer": "object cut out to a new layer"}[output]
    return f"{DONE[mode]} {INTO[output]}"


def _active_layer_id(doc):
    """The uniqueId of the layer a mask goes on for the merged image (the active one), or None."""
    try:
        return document.source_layer(doc).uniqueId()
    except document.DocumentError:
        return None


def _name(doc, source: document.SourceImage) -> str:
    node = document.find_node(doc, source.node_id)
    return node.name() if node is not None else "the layer"
