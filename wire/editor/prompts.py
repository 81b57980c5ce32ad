"""Object Selection's prompts from what an editor holds, with no editor code: the box around the
selection, the clicks a path's anchors make, whether a selection can serve as a rough mask.

The rules, the same in every plug-in (the Photoshop panel's ``object_prompts.js`` is their twin):

- the box is the bounds of every pixel selected at all (coverage above 0) over the source;
- a path's anchors are clicks: those of its first stroke (subpath) positive (on the object), those of
  every later stroke negative (on what is not the object); anchors outside the source are left out;
- a rough mask (Add to Subject, Subtract from Subject) needs a pixel selected 50% or more, since the
  engine takes a mask at 0.5.

Coordinates: editors give canvas pixels; prompts are image pixels, 0 at the source rectangle's left
and top. Rectangles are ``(x, y, width, height)``; coverage is grey8 bytes, row-major, 0–255.
Layer rule: the standard library and the rest of :mod:`wire` only.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..protocol.constants import OBJECT_POINTS_MAX
from .flows import ObjectPrompts
from .texts import FAINT_ROUGH, NOTHING_ROUGH, Refused

POINTS_PATH = "Softcut points"
"""The name of the path whose anchors are clicks (compared without regard to case)."""
INSIDE = 128
"""A coverage value (0–255) at or above which a pixel is inside a rough mask."""
BOX_MIN = 2
"""The smallest box side (pixels) the engine takes."""
_BELOW_INSIDE = bytes(range(INSIDE))  # the coverage values a rough mask leaves out

Point = tuple[float, float, bool]


def is_points_path(name: object) -> bool:
    """Whether ``name`` names the clicks' path (:data:`POINTS_PATH`, any case, spaces around ignored)."""
    return isinstance(name, str) and name.strip().casefold() == POINTS_PATH.casefold()


def clicks(strokes: Sequence[Sequence[tuple[float, float]]], rect: Sequence[int]) -> tuple[tuple[Point, ...], int]:
    """The clicks a path's anchors make over the source ``rect``.

    strokes: each stroke's anchors as (x, y) canvas pixels, in the path's order.
    Returns the clicks inside ``rect`` as (x, y, positive) image pixels (the first stroke's
    positive, the later strokes' negative, in order) and how many anchors lay outside it.
    """
    left, top, width, height = rect
    inside: list[Point] = []
    count = 0
    for number, anchors in enumerate(strokes):
        for x, y in anchors:
            count += 1
            ix, iy = float(x) - left, float(y) - top
            if 0 <= ix < width and 0 <= iy < height:
                inside.append((ix, iy, number == 0))
    return tuple(inside), count - len(inside)


def check_clicks(points: Sequence[Point], where: str) -> None:
    """Raise :class:`Refused` when there are more clicks than a request may carry (``where``: what made them)."""
    if len(points) > OBJECT_POINTS_MAX:
        raise Refused(f"{where} make {len(points)} clicks on the layer; at most {OBJECT_POINTS_MAX} can be sent")


def selection_box(coverage: bytes, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The box around the pixels selected at all: (x0, y0, x1, y1), pixel corners (x1 = last column + 1);
    None when nothing is selected. ``coverage``: grey8 over a ``width`` × ``height`` image."""
    if len(coverage) != width * height:
        raise ValueError(f"coverage: expected {width * height} bytes ({width}×{height}); got {len(coverage)}")
    x0, y0, x1, y1 = width, height, 0, 0
    for y in range(height):
        row = coverage[y * width:(y + 1) * width]
        kept = row.lstrip(b"\x00")
        if not kept:
            continue
        x0 = min(x0, width - len(kept))
        x1 = max(x1, len(row.rstrip(b"\x00")))
        y0 = min(y0, y)
        y1 = y + 1
    return (x0, y0, x1, y1) if x1 > x0 else None


def check_box(box: tuple[int, int, int, int] | None) -> None:
    """Raise :class:`Refused` for a box under :data:`BOX_MIN` × :data:`BOX_MIN` pixels (the engine refuses it)."""
    if box is not None and (box[2] - box[0] < BOX_MIN or box[3] - box[1] < BOX_MIN):
        raise Refused(f"the selection over the layer is smaller than {BOX_MIN} × {BOX_MIN} pixels: "
                      "select a rectangle around the object")


def object_prompts(coverage: bytes, width: int, height: int, points: Sequence[Point]) -> ObjectPrompts | None:
    """Object's prompts: the box around the selection (``coverage``, grey8 over the source) and ``points``;
    None when neither marks anything. Raises :class:`Refused` for a box too small or too many clicks."""
    box = selection_box(coverage, width, height)
    check_box(box)
    check_clicks(points, "the path's anchors")
    if box is None and not points:
        return None
    return ObjectPrompts(box=None if box is None else tuple(float(v) for v in box), points=tuple(points))


def rough_prompts(coverage: bytes) -> ObjectPrompts:
    """Add to Subject's and Subtract from Subject's prompt: the selection (grey8 over the source) as a
    rough mask. Raises :class:`Refused` when nothing is selected, or no pixel 50% or more."""
    data = bytes(coverage)
    if not data.strip(b"\x00"):
        raise Refused(NOTHING_ROUGH)
    if not data.translate(None, _BELOW_INSIDE):
        raise Refused(FAINT_ROUGH)
    return ObjectPrompts(rough=data)
