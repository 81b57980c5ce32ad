"""Soft segments as layers: their names, their group, their colours and masks.

The engine's ``soft_segments`` answer holds ``segment0`` … (rgba8: straight colours and the
segment's stacking mask), segment0 the bottom layer. Each plug-in makes one layer per
segment, named ``Segment 1`` (bottom) …, with its colours opaque and its alpha as a
mask, in a new group :data:`SEGMENT_GROUP` on top of the stack.
"""

from __future__ import annotations

from ..client import Result
from ..protocol.schemas import DEFAULT_SEGMENTS, SEGMENTS_MAX, SEGMENTS_MIN

SEGMENT_GROUP = "Soft segments"
"""The layer group soft_segments' layers are inserted in."""
SEGMENT_LAYER = "Segment {number}"
"""A segment layer's name, numbered from 1: the bottom layer (the engine's segment0, the largest)."""


def split_rgba(rgba: bytes) -> tuple[bytes, bytes]:
    """rgba8 (4 bytes a pixel) → its rgb8 colours (3 bytes a pixel) and its grey8 alpha."""
    if len(rgba) % 4:
        raise ValueError(f"rgba8: expected a multiple of 4 bytes; got {len(rgba)}")
    rgb = bytearray(3 * (len(rgba) // 4))
    rgb[0::3] = rgba[0::4]
    rgb[1::3] = rgba[1::4]
    rgb[2::3] = rgba[2::4]
    return bytes(rgb), bytes(rgba[3::4])


def segment_layers(result: Result) -> list[tuple[str, bytes]]:
    """``(name, rgba8)`` per segment of a ``soft_segments`` result, bottom layer first.

    Raises :class:`ValueError` when the answer lacks a segment it announces.
    """
    count = int(result.fields.get("count", sum(name.startswith("segment") for name in result.buffers)))
    missing = [f"segment{k}" for k in range(count) if f"segment{k}" not in result.buffers]
    if missing:
        raise ValueError(f"the engine's answer has no {', '.join(missing)}")
    return [(SEGMENT_LAYER.format(number=k + 1), bytes(result.buffers[f"segment{k}"])) for k in range(count)]


def checked_count(count: object) -> int:
    """``count`` as a number of soft segment layers (2–10); :class:`ValueError` when it is not one."""
    count = int(count)
    if not SEGMENTS_MIN <= count <= SEGMENTS_MAX:
        raise ValueError(f"count: expected {SEGMENTS_MIN}–{SEGMENTS_MAX} layers; got {count}")
    return count


def stored_count(text: object) -> int:
    """A layer count kept in the editor's settings, back to the default when it is not one."""
    try:
        return checked_count(text)
    except (TypeError, ValueError):
        return DEFAULT_SEGMENTS
