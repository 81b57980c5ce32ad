"""The only module that touches Krita's documents: read pixels, write results.

Reading gives the engine ``rgba8``: RGBA U8 documents are read directly, any
other colour model, depth or linear profile is converted by Krita itself (a
clone of the document converted to RGBA/U8/sRGB).

Writing keeps the user's undo history honest on Krita 5.1, whose Python API
records adding and removing nodes but not pixel writes or selection changes:

- a new node (the cut-out layer, a phone cut-out, the soft segments' group and its layers) is
  filled while detached and added in one step;
- a transparency mask is added by Krita's own "Add Transparency Mask" action
  (one step) and then filled: undoing the step removes the mask and what was
  written into it;
- a selection is set right after one of Krita's own selection steps ("Deselect",
  or "Select All" when nothing was selected), so one Ctrl+Z brings back the
  selection the user had.
- a transparency mask is replaced by Krita's own "Convert to Transparency Mask" on it
  (one step that keeps the old mask for its undo), then the copy is filled.

Every function here runs on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from krita import Krita, Selection
from PyQt5.QtWidgets import QApplication

from . import pixels

SCRATCH_NAME = "softcut-scratch"


class DocumentError(Exception):
    """The document cannot take this operation (no layer, locked layer, nothing selected)."""


@dataclass
class SourceImage:
    """What is sent to the engine: ``rgba`` (width * height * 4 bytes, RGBA8) at (x, y) on the canvas."""

    x: int
    y: int
    width: int
    height: int
    rgba: bytes
    node_id: str | None  # the layer's uniqueId, None for the merged image


def settle(doc) -> None:
    """Let Krita finish its queued strokes and update its widgets."""
    doc.waitForDone()
    QApplication.instance().processEvents()
    doc.waitForDone()


def find_node(doc, unique_id: str):
    """The node of ``doc`` with this uniqueId, or None."""
    stack = list(doc.topLevelNodes())
    while stack:
        node = stack.pop()
        if node.uniqueId() == unique_id:
            return node
        stack.extend(node.childNodes())
    return None


def source_layer(doc):
    """The layer the user is working on: the active node, or a mask's layer."""
    node = doc.activeNode()
    if node is None:
        raise DocumentError("no active layer")
    while node.type().endswith("mask"):
        node = node.parentNode()
    return node


def node_path(node) -> list[int]:
    """Where ``node`` sits in its document: its child index under each parent, from the root down."""
    path = []
    while node.parentNode() is not None:
        parent = node.parentNode()
        ids = [child.uniqueId() for child in parent.childNodes()]
        path.append(ids.index(node.uniqueId()))
        node = parent
    return path[::-1]


def node_at(doc, path: list[int]):
    """The node of ``doc`` at ``path`` (see :func:`node_path`): the same place in a copy of the document."""
    node = doc.rootNode()
    for index in path:
        node = node.childNodes()[index]
    return node


def _read_rgba(doc, node, rect: tuple[int, int, int, int]) -> bytes:
    x, y, w, h = rect
    model, depth = doc.colorModel(), doc.colorDepth()
    if model == "RGBA" and depth == "U8":
        data = bytes(node.projectionPixelData(x, y, w, h) if node is not None else doc.pixelData(x, y, w, h))
        return pixels.swap_red_blue(data)
    # Any other model or depth: let Krita convert a copy of the document.
    copy = doc.clone()
    try:
        copy.setColorSpace("RGBA", "U8", "")
        copy.waitForDone()
        if node is None:
            copy.refreshProjection()
            copy.waitForDone()
            data = bytes(copy.pixelData(x, y, w, h))
        else:
            data = bytes(node_at(copy, node_path(node)).projectionPixelData(x, y, w, h))
    finally:
        copy.close()
    return pixels.swap_red_blue(data)


def read_source(doc, *, merged: bool, node=None) -> SourceImage:
    """The active layer (or ``node``, a layer of ``doc``: its part on the canvas) or the merged image, as RGBA8."""
    settle(doc)
    if merged:
        rect = (0, 0, doc.width(), doc.height())
        node = None
    else:
        node = source_layer(doc) if node is None else node
        bounds = node.bounds()
        rect = pixels.clip_rect(bounds.x(), bounds.y(), bounds.width(), bounds.height(), doc.width(), doc.height())
        if rect[2] < 2 or rect[3] < 2:
            raise DocumentError(f"layer '{node.name()}' has no pixels on the canvas")
    return SourceImage(*rect, _read_rgba(doc, node, rect), None if node is None else node.uniqueId())


def layers_top_down(doc) -> list:
    """Every layer of ``doc`` (no masks), in the order of Krita's Layers docker: top first, a group's
    layers right after the group."""
    found = []

    def visit(nodes) -> None:
        for node in reversed(list(nodes)):
            if not node.type().endswith("mask"):
                found.append(node)
                visit(node.childNodes())

    visit(doc.topLevelNodes())
    return found


def plate_layers(doc, image) -> tuple[list, object]:
    """``(candidates, default)``: the paint layers of ``doc`` other than ``image`` (the layer the
    subject is cut from, or None) that hold pixels, top first (what can be offered as a clean plate),
    and the one to offer first: a candidate whose name holds "plate" (any case), else the one just
    below ``image`` in the stack (just above when none is below), else the topmost; None when there
    is no candidate."""
    image_id = image.uniqueId() if image is not None else None
    above, below = [], []
    side = above
    for node in layers_top_down(doc):
        if image_id is not None and node.uniqueId() == image_id:
            side = below
        elif node.type() == "paintlayer" and not node.bounds().isEmpty():
            side.append(node)
    candidates = above + below
    named = [node for node in candidates if "plate" in node.name().casefold()]
    if named:
        return candidates, named[0]
    if below:
        return candidates, below[0]
    if above and image is not None:
        return candidates, above[-1]
    return candidates, candidates[0] if candidates else None


def read_layer(doc, node) -> SourceImage:
    """All of ``node`` (its bounds, on the canvas or not, hidden or not) as RGBA8: a clean plate."""
    settle(doc)
    if node.type().endswith("mask"):
        raise DocumentError(f"'{node.name()}' is a mask, not a layer")
    bounds = node.bounds()
    rect = (bounds.x(), bounds.y(), bounds.width(), bounds.height())
    if rect[2] < 2 or rect[3] < 2:
        raise DocumentError(f"layer '{node.name()}' is empty")
    return SourceImage(*rect, _read_rgba(doc, node, rect), node.uniqueId())


def read_selection(doc, rect: tuple[int, int, int, int]) -> bytes:
    """The global selection inside ``rect`` as grey8 (0 outside the selection)."""
    selection = doc.selection()
    if selection is None:
        raise DocumentError("nothing is selected: draw a rough selection around the subject first")
    return bytes(selection.pixelData(*rect))


def from_bgra8(doc, bgra: bytes, width: int, height: int) -> bytes:
    """BGRA8 pixels (Krita's RGBA/U8 layout) in ``doc``'s own colour model and depth (Krita converts)."""
    model, depth = doc.colorModel(), doc.colorDepth()
    if model == "RGBA" and depth == "U8":
        return bgra
    scratch = Krita.instance().createDocument(width, height, SCRATCH_NAME, "RGBA", "U8", "", 72.0)
    try:
        layer = scratch.topLevelNodes()[0]
        layer.setPixelData(bgra, 0, 0, width, height)
        scratch.setColorSpace(model, depth, doc.colorProfile())
        scratch.waitForDone()
        return bytes(layer.pixelData(0, 0, width, height))
    finally:
        scratch.close()


# ── writing ──────────────────────────────────────────────────────────────────


def _action(doc, name: str) -> None:
    Krita.instance().action(name).trigger()
    settle(doc)


def _activate(doc, node) -> None:
    doc.setActiveNode(node)
    settle(doc)
    active = doc.activeNode()
    if active is None or active.uniqueId() != node.uniqueId():
        raise DocumentError(f"Krita did not make '{node.name()}' the active layer")


class SelectionKept:
    """Takes the global selection away for the span of a block and gives it back unchanged."""

    def __init__(self, doc) -> None:
        self.doc = doc

    def __enter__(self):
        current = self.doc.selection()
        self.saved = current.duplicate() if current is not None else None
        self.doc.setSelection(None)
        settle(self.doc)
        return self

    def __exit__(self, *exc) -> None:
        self.doc.setSelection(self.saved)
        settle(self.doc)


def new_mask(doc, layer):
    """Krita's own "Add Transparency Mask" on ``layer`` (one undo step); the new mask."""
    before = {child.uniqueId() for child in layer.childNodes()}
    _activate(doc, layer)
    _action(doc, "add_new_transparency_mask")
    added = [c for c in layer.childNodes() if c.uniqueId() not in before and c.type() == "transparencymask"]
    if not added:
        raise DocumentError(f"Krita did not add a transparency mask to '{layer.name()}' (is it locked?)")
    return added[0]


def _full_mask_bytes(node, rect: tuple[int, int, int, int], alpha: bytes) -> tuple[tuple[int, int, int, int], bytes]:
    """``alpha`` (grey8 over ``rect``) padded with 0 to cover ``node``'s bounds as well."""
    b = node.bounds()
    left, top = min(b.x(), rect[0]), min(b.y(), rect[1])
    right, bottom = max(b.x() + b.width(), rect[0] + rect[2]), max(b.y() + b.height(), rect[1] + rect[3])
    width, height = right - left, bottom - top
    out = bytearray(width * height)
    x, y, w, h = rect
    for row in range(h):
        start = (y - top + row) * width + (x - left)
        out[start:start + w] = alpha[row * w:(row + 1) * w]
    return (left, top, width, height), bytes(out)


def add_transparency_mask(doc, layer, rect: tuple[int, int, int, int], alpha: bytes, *, name: str):
    """A new transparency mask on ``layer`` holding ``alpha`` (grey8 over ``rect``; 0 elsewhere). One undo step."""
    with SelectionKept(doc):
        mask = new_mask(doc, layer)
        full_rect, full = _full_mask_bytes(layer, rect, alpha)
        mask.setPixelData(full, *full_rect)
        mask.setName(name)
    settle(doc)
    return mask


def _layer_template(doc, host):
    """A detached paint layer carrying one initialised transparency mask, made with no net undo step.

    Krita 5.1's Python API cannot give a new transparency mask its pixels, so the
    mask comes from Krita's own action on ``host``, is copied with a copy of
    ``host``, and the action is undone at once.
    """
    with SelectionKept(doc):
        mask = new_mask(doc, host)
        copy = host.duplicate()
        _action(doc, "edit_undo")
        if find_node(doc, mask.uniqueId()) is not None:
            raise DocumentError("Krita did not undo its temporary mask")
    return copy


def _plain_paint_layer(doc, prefer):
    """A paint layer whose copy can become the cut-out without an undo step of its own.

    Only pixels, names and flags can be changed on a detached copy without Krita
    recording it, so the host has no children, normal blending and full opacity.
    """
    candidates = ([prefer] if prefer is not None else []) + list(doc.topLevelNodes())
    while candidates:
        node = candidates.pop(0)
        if (node.type() == "paintlayer" and not node.childNodes() and not node.locked()
                and node.blendingMode() == "normal" and node.opacity() == 255):
            return node
        candidates.extend(node.childNodes())
    return None


def _masked_layer_maker(doc, prefer):
    """A function ``make(name, rect, rgb, alpha)`` of detached new paint layers: ``rgb`` (RGB8
    colours over ``rect``, opaque) under a transparency mask holding ``alpha`` (grey8). Making
    them adds no undo step; adding one (or a group holding them) to the document adds one.

    The mask comes from one template (:func:`_layer_template`, a copy of a plain paint layer
    near ``prefer``), copied for each layer. Where the document has no plain paint layer to
    borrow a mask from, the layers carry ``alpha`` as their own transparency instead of a mask.
    """
    host = _plain_paint_layer(doc, prefer)
    template = None
    if host is not None:
        template = _layer_template(doc, host)
        b = template.bounds()
        if b.width() > 0 and b.height() > 0:
            pixel_size = len(bytes(template.pixelData(b.x(), b.y(), 1, 1)))
            template.setPixelData(bytes(pixel_size * b.width() * b.height()), b.x(), b.y(), b.width(), b.height())
        for getter, setter, value in (("visible", "setVisible", True), ("alphaLocked", "setAlphaLocked", False),
                                      ("inheritAlpha", "setInheritAlpha", False), ("colorLabel", "setColorLabel", 0)):
            if getattr(template, getter)() != value:
                getattr(template, setter)(value)

    def make(name: str, rect: tuple[int, int, int, int], rgb: bytes, alpha: bytes):
        x, y, w, h = rect
        if template is not None:
            layer = template.duplicate()
            mask = layer.childNodes()[0]
            full_rect, full = _full_mask_bytes(layer, rect, alpha)
            mask.setPixelData(full, *full_rect)
            mask.setName(f"{name} mask")
            bgra = pixels.bgra_with_alpha(rgb)
        else:
            layer = doc.createNode(name, "paintlayer")
            bgra = pixels.bgra_with_alpha(rgb, alpha)
        layer.setName(name)
        layer.setPixelData(from_bgra8(doc, bgra, w, h), x, y, w, h)
        return layer

    return make


def add_cutout_layer(doc, above, rect: tuple[int, int, int, int], rgb: bytes, alpha: bytes, *, name: str):
    """A new paint layer above ``above``: ``rgb`` (RGB8 colours over ``rect``, opaque) under a
    transparency mask holding ``alpha`` (grey8). One undo step ("Add Layer").

    Where the document has no plain paint layer to borrow a mask from, the layer
    carries ``alpha`` as its own transparency instead of a mask.
    """
    layer = _masked_layer_maker(doc, above)(name, rect, rgb, alpha)
    parent = above.parentNode() or doc.rootNode()
    parent.addChildNode(layer, above)
    settle(doc)
    return layer


def top_layer(doc):
    """The topmost layer of the stack (not the global selection's mask), or None."""
    layers = [node for node in doc.topLevelNodes() if not node.type().endswith("mask")]
    return layers[-1] if layers else None


def add_top_layer(doc, name: str, rect: tuple[int, int, int, int], rgba: bytes):
    """A new paint layer ``name`` at the top of the stack holding ``rgba`` (rgba8, straight alpha,
    over ``rect``). One undo step ("Add Layer"): the layer is filled while detached."""
    x, y, w, h = rect
    layer = doc.createNode(name, "paintlayer")
    layer.setPixelData(from_bgra8(doc, pixels.swap_red_blue(rgba), w, h), x, y, w, h)
    doc.rootNode().addChildNode(layer, top_layer(doc))
    settle(doc)
    return layer


def add_layer_group(doc, rect: tuple[int, int, int, int], layers: list[tuple[str, bytes, bytes]], *, name: str):
    """A new group ``name`` at the top of the stack holding one masked paint layer per
    ``(layer name, rgb, alpha)`` (RGB8 colours and grey8 mask over ``rect``), the first
    at the bottom. One undo step ("Add Layer"): the group is filled while detached.

    Krita 5.1 does not render a group whose layers were added while it was detached
    (its projection stays empty), so the image is re-rendered once it is in.
    """
    top = top_layer(doc)
    make = _masked_layer_maker(doc, top)
    group = doc.createNode(name, "grouplayer")
    group.setChildNodes([make(layer_name, rect, rgb, alpha) for layer_name, rgb, alpha in layers])
    doc.rootNode().addChildNode(group, top)
    settle(doc)
    doc.refreshProjection()
    settle(doc)
    return group


def set_selection(doc, rect: tuple[int, int, int, int], alpha: bytes) -> None:
    """Replace the global selection by ``alpha`` (grey8 over ``rect``, 0 elsewhere). One undo step.

    The step is Krita's own "Deselect" (or "Select All" when nothing was selected),
    whose undo brings back the user's selection; the soft selection is written
    right after it.
    """
    _action(doc, "deselect" if doc.selection() is not None else "select_all")
    write_selection(doc, rect, alpha)


def replace_mask(doc, mask, rect: tuple[int, int, int, int], alpha: bytes, *, name: str):
    """A new transparency mask ``name`` holding ``alpha`` (grey8 over ``rect``; 0 elsewhere) in place of
    ``mask``, a transparency mask Krita made. One undo step, whose undo gives back ``mask`` as it is now.

    The step is Krita's own "Convert to Transparency Mask" on ``mask`` (shown as "Convert to a Selection
    Mask" in Krita 5.1's history): it puts a copy of ``mask`` in its place and keeps ``mask`` itself,
    untouched, for the undo; ``alpha`` is then written into the copy. (Writing into ``mask`` instead
    would be no step at all, and Krita's undo of a later step would not give its pixels back.)
    """
    layer = mask.parentNode()
    before = {child.uniqueId() for child in layer.childNodes()}
    with SelectionKept(doc):
        _activate(doc, mask)
        _action(doc, "convert_to_transparency_mask")
        added = [c for c in layer.childNodes() if c.uniqueId() not in before and c.type() == "transparencymask"]
        if not added or find_node(doc, mask.uniqueId()) is not None:
            raise DocumentError(f"Krita did not replace the mask '{mask.name()}' (is it locked?)")
        new = added[0]
        full_rect, full = _full_mask_bytes(layer, rect, alpha)
        new.setPixelData(full, *full_rect)
        new.setName(name)
    settle(doc)
    return new


def write_selection(doc, rect: tuple[int, int, int, int], alpha: bytes) -> None:
    """Overwrite the global selection (no undo step of its own: used by :func:`set_selection` and live edits).

    Krita 5.1 makes the topmost layer the active one when Python sets a selection where there was none;
    the layer that was active is made active again.
    """
    active = doc.activeNode()
    selection = Selection()
    selection.setPixelData(alpha, *rect)
    doc.setSelection(selection)
    settle(doc)
    now = doc.activeNode()
    if active is not None and (now is None or now.uniqueId() != active.uniqueId()):
        doc.setActiveNode(active)
        settle(doc)


def write_mask(doc, mask, rect: tuple[int, int, int, int], alpha: bytes) -> None:
    """Overwrite a mask this plug-in made (live edge edits; its undo step stays the one that added it)."""
    full_rect, full = _full_mask_bytes(mask.parentNode(), rect, alpha)
    mask.setPixelData(full, *full_rect)
    settle(doc)
