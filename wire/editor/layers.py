"""Soft segments as layers: the engine's ``segment0`` … (rgba8: colours and stacking mask,
segment0 the bottom) become layers ``Segment 1`` … (colours opaque, alpha as a mask) in a new
group :data:`SEGMENT_GROUP` on top of the stack."""

from __future__ import annotations

from ..client import Result
from ..protocol.schemas import DEFAULT_SEGMENTS, SEGMENTS_MAX, SEGMENTS_MIN

SEGMENT_GROUP = "Soft segments"
SEGMENT_LAYER = "Segment {number}"


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
    """``(layer name, rgba8)`` per segment of a ``soft_segments`` result, bottom layer first."""
    count = int(result.fields.get("count", len(result.buffers)))
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
