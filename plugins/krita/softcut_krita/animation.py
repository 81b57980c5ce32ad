"""Select Subject in Animation: the Krita side (reading keyframes, writing the mattes back).

Like :mod:`.document`, this is code that touches Krita documents, and all of it runs on the
GUI thread. What Krita 5.1.5's Python API allows (checked in Krita 5.1.5):

- ``Node.animated()``, ``Node.hasKeyframeAtTime(t)`` and ``Node.pixelDataAtTime(x, y, w, h, t)``
  read an animated layer's keyframes without changing the document (``pixelDataAtTime`` gives
  nothing at a time that is not a keyframe); there is no call that lists keyframes, so they
  are found by asking every time from 0 to :data:`KEY_SCAN_LIMIT`.
- There is no call that writes a frame at a time: ``Node.setPixelData`` writes the frame
  showing at the image's current time, and ``Document.setCurrentTime`` is an undo step of its
  own ("Switch current time"; consecutive switches merge into one).
- A new keyframe is only made by Krita's own actions (``add_blank_frame`` on the active node,
  one "Add Keyframe" step each); a node first made animated also gets a keyframe at 0.
- ``Node.duplicate()`` copies a node with all its keyframes and frames, detached: adding it
  with ``addChildNode`` is one "Add Layer" step, keyframes and all. ``Document.importAnimation``
  crashed Krita 5.1.5 (segmentation fault) when tried; it is not used.

So each result is built in a few temporary steps that are undone at once, and only a detached
copy of what they built is added to the document, in one step:

- the animated transparency mask: Krita's "Add Transparency Mask" on the layer, a keyframe
  made at each of the layer's keyframe times and filled with that frame's matte (255, which
  masks nothing, at the keyframes outside the playback range), duplicated, then undone;
- the new animated layer: a duplicate of the layer (same keyframes, its masks and blending
  too), each keyframe in the range overwritten with the engine's cut-out and the others
  cleared, the time switches bracketed by a temporary mask whose undo undoes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from krita import Krita

from . import document, pixels
from .document import DocumentError

KEY_SCAN_LIMIT = 100_000  # frames: keyframes are looked for at 0 … this (Krita 5.1 cannot list them)
UNDO_LIMIT_EXTRA = 4  # temporary steps undone beyond those counted, before giving up


@dataclass(frozen=True)
class AnimationSource:
    """What Select Subject in Animation reads: ``times`` (the layer's keyframes inside the playback
    range, in order) of the layer ``node_id``, each over ``rect`` (the canvas: x, y, w, h);
    ``all_times``: every keyframe of the layer (also outside the range)."""

    node_id: str
    name: str
    rect: tuple[int, int, int, int]
    times: tuple[int, ...]
    all_times: tuple[int, ...]


def keyframe_times(node, last: int) -> list[int]:
    """The times (frames, ascending) at which ``node`` has a keyframe, from 0 to ``last``."""
    return [t for t in range(0, last + 1) if node.hasKeyframeAtTime(t)]


def plan(doc) -> AnimationSource:
    """The active layer's keyframes in the playback range, or DocumentError saying why there are none."""
    node = document.source_layer(doc)
    if node.type() != "paintlayer":
        raise DocumentError(f"'{node.name()}' is not a paint layer: Select Subject in Animation reads an "
                            "animated paint layer")
    if not node.animated():
        raise DocumentError(f"'{node.name()}' is not animated (it holds one still image): use Select Subject "
                            "(Softcut) for it, or choose an animated layer")
    start, end = doc.playBackStartTime(), doc.playBackEndTime()
    all_times = keyframe_times(node, max(KEY_SCAN_LIMIT, end))
    times = [t for t in all_times if start <= t <= end]
    if not times:
        raise DocumentError(f"'{node.name()}' has no keyframe in the playback range (frames {start} to {end})")
    if doc.width() < 2 or doc.height() < 2:
        raise DocumentError("the canvas is too small")
    return AnimationSource(node.uniqueId(), node.name(), (0, 0, doc.width(), doc.height()), tuple(times),
                           tuple(all_times))


class FrameReader:
    """Reads the keyframes of an :class:`AnimationSource` as rgba8 (w * h * 4 bytes), one call each.

    RGBA U8 documents are read directly; any other colour model or depth from a copy of the
    document converted to 8-bit sRGB by Krita (made on the first read, closed by :meth:`close`).
    """

    def __init__(self, doc, source: AnimationSource) -> None:
        self.doc, self.source = doc, source
        self._copy = None
        self._node = None

    def _layer(self):
        if self._node is not None:
            return self._node
        node = _layer_of(self.doc, self.source)
        if (self.doc.colorModel(), self.doc.colorDepth()) != ("RGBA", "U8"):
            self._copy = self.doc.clone()
            self._copy.setColorSpace("RGBA", "U8", "")
            self._copy.waitForDone()
            node = document.node_at(self._copy, document.node_path(node))
        self._node = node
        return node

    def read(self, time: int) -> bytes:
        """The keyframe at ``time`` over the source's rect: rgba8 bytes."""
        x, y, w, h = self.source.rect
        data = bytes(self._layer().pixelDataAtTime(x, y, w, h, time))
        if len(data) != w * h * 4:
            raise DocumentError(f"Krita gave no pixels for frame {time} of '{self.source.name}'")
        return pixels.swap_red_blue(data)

    def close(self) -> None:
        copy, self._copy, self._node = self._copy, None, None
        if copy is not None:
            copy.close()


# ── writing ──────────────────────────────────────────────────────────────────


def _layer_of(doc, source: AnimationSource):
    layer = document.find_node(doc, source.node_id)
    if layer is None:
        raise DocumentError(f"the layer '{source.name}' is gone")
    return layer


def _switch(doc, time: int) -> bool:
    """Show frame ``time``; whether the time changed (a step in Krita's undo history)."""
    if doc.currentTime() == time:
        return False
    doc.setCurrentTime(time)
    document.settle(doc)
    return True


def _clip_range(doc) -> tuple[int, int]:
    return doc.fullClipRangeStartTime(), doc.fullClipRangeEndTime()


def _keep_clip_range(doc, clip: tuple[int, int]) -> None:
    """Give the document its Start and End back: Krita moves the End to a keyframe added after it (on the
    temporary mask), and neither undo nor anything else puts it back."""
    if _clip_range(doc) != clip:
        doc.setFullClipRangeEndTime(clip[1])
        doc.setFullClipRangeStartTime(clip[0])


class _TemporarySteps:
    """The steps a writer takes only to reach the frames (time switches, keyframes on a scratch
    mask), undone on leaving. Krita's "Add Transparency Mask" on ``layer`` (the selection set
    aside) is the first of them (``mask``); undoing until it is gone undoes every later one. On
    leaving, the time and the document's Start and End are given back too (``clip``)."""

    def __init__(self, doc, layer) -> None:
        self.doc, self.layer = doc, layer

    def __enter__(self) -> "_TemporarySteps":
        self.start_time, self.clip = self.doc.currentTime(), _clip_range(self.doc)
        with document.SelectionKept(self.doc):
            self.mask = document.new_mask(self.doc, self.layer)
        self.steps = 1
        return self

    def switch(self, time: int) -> None:
        """Show frame ``time``."""
        self.steps += _switch(self.doc, time)

    def add_mask_keyframe(self, time: int) -> None:
        """A blank keyframe on the scratch mask at the current time ``time``, where it has none."""
        if self.mask.hasKeyframeAtTime(time):
            return
        Krita.instance().action("add_blank_frame").trigger()
        document.settle(self.doc)
        self.steps += 1
        if not self.mask.hasKeyframeAtTime(time):
            raise DocumentError(f"Krita did not add a keyframe at frame {time} to the new mask "
                                "(is the Animation Timeline docker available?)")

    def __exit__(self, *exc) -> None:
        doc = self.doc
        for _ in range(self.steps + UNDO_LIMIT_EXTRA):
            if self.mask.uniqueId() not in {c.uniqueId() for c in self.layer.childNodes()}:
                break
            Krita.instance().action("edit_undo").trigger()
            document.settle(doc)
        else:
            raise DocumentError("Krita did not undo its temporary steps; check Edit > Undo History")
        _switch(doc, self.start_time)  # undoing the switches gives the time back; this is a last resort
        _keep_clip_range(doc, self.clip)


def _insert(doc, steps: _TemporarySteps, parent, copy, above, name: str):
    """Add ``copy`` (a node made outside the document) under ``parent`` above ``above`` (None: at the
    top), named ``name``: the writer's one undo step ("Add Layer"). Returns Krita's node for it."""
    copy.setName(name)
    parent.addChildNode(copy, above)
    document.settle(doc)
    _keep_clip_range(doc, steps.clip)
    return _added(parent, copy)


def add_animated_mask(doc, source: AnimationSource, mattes: list[bytes], *, name: str):
    """A new animated transparency mask on the source layer: at each time of ``source.times`` the
    matte of that frame (grey8 over ``source.rect``), 255 at the layer's other keyframes (the mask
    hides nothing outside the playback range). One undo step ("Add Layer")."""
    if len(mattes) != len(source.times):
        raise ValueError(f"mattes: expected {len(source.times)}; got {len(mattes)}")
    layer = _layer_of(doc, source)
    x, y, w, h = source.rect
    wanted = dict(zip(source.times, mattes))
    with _TemporarySteps(doc, layer) as steps:
        for t in source.all_times:
            steps.switch(t)
            steps.add_mask_keyframe(t)
            steps.mask.setPixelData(wanted.get(t, b"\xff" * (w * h)), x, y, w, h)
        document.settle(doc)
        copy = steps.mask.duplicate()
    return _insert(doc, steps, layer, copy, None, name)


def add_animated_layer(doc, source: AnimationSource, cutouts: list[bytes], *, name: str):
    """A new animated paint layer above the source layer holding ``cutouts`` (rgba8 over
    ``source.rect``, straight alpha) at ``source.times`` and nothing at the layer's other
    keyframes. It is a copy of the source layer (same keyframes, masks, opacity and blending)
    whose pixels are replaced. One undo step ("Add Layer")."""
    if len(cutouts) != len(source.times):
        raise ValueError(f"cutouts: expected {len(source.times)}; got {len(cutouts)}")
    layer = _layer_of(doc, source)
    x, y, w, h = source.rect
    wanted = dict(zip(source.times, cutouts))
    copy = layer.duplicate()  # outside the document: its edits are no undo steps
    with _TemporarySteps(doc, layer) as steps:  # the scratch mask only brackets the time switches
        for t in source.all_times:
            steps.switch(t)
            b = copy.bounds()
            if b.width() > 0 and b.height() > 0:
                pixel = len(bytes(copy.pixelData(b.x(), b.y(), 1, 1)))
                copy.setPixelData(bytes(pixel * b.width() * b.height()), b.x(), b.y(), b.width(), b.height())
            if t in wanted:
                copy.setPixelData(document.from_bgra8(doc, pixels.swap_red_blue(wanted[t]), w, h), x, y, w, h)
        document.settle(doc)
    if not copy.visible():
        copy.setVisible(True)
    return _insert(doc, steps, layer.parentNode() or doc.rootNode(), copy, layer, name)


def _added(parent, copy):
    """The node just added under ``parent`` (Krita's own wrapper of ``copy``)."""
    for child in parent.childNodes():
        if child.uniqueId() == copy.uniqueId():
            return child
    raise DocumentError("Krita did not add the result")
