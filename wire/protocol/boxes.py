"""Grey buffers sent as the box where they are non-zero (a buffer spec's ``within``): finding that box,
cropping a whole buffer to it and placing a cropped one back in its image. A matte or a rough mask is
mostly zeros around one object: the box is often a small part of the image's bytes.

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

import dataclasses

from .envelope import Buffer, BufferSpec, BytesLike, Message


CROP_ALPHA = "crop_alpha"
"""The capability (``welcome``'s ``capabilities``) of an engine that takes ``crop_alpha`` and grey buffers
sent as their box."""
CROPPED_REQUESTS = frozenset({"select_subject", "refine", "select_object", "adjust_edges"})
"""The requests whose alpha may come back as its box."""
SENT_AS_BOXES = frozenset({"mask", "previous"})
"""The request buffers a client sends as their box: select_object's rough mask and previous matte."""


def with_boxes(message: Message) -> Message:
    """``message`` as a client sends it to an engine with the :data:`CROP_ALPHA` capability: a request of
    :data:`CROPPED_REQUESTS` asks for its alpha as its box (``crop_alpha``, unless it says otherwise), and its
    :data:`SENT_AS_BOXES` grey buffers go as theirs (:func:`cropped`). Any other message as it is. The
    client gives the replies' buffers back whole (:func:`whole`), so callers see no difference."""
    if message.type not in CROPPED_REQUESTS:
        return message
    fields = message.fields if "crop_alpha" in message.fields else {**message.fields, "crop_alpha": True}
    buffers = [cropped(item) if item[0].name in SENT_AS_BOXES else item for item in message.buffers]
    return dataclasses.replace(message, fields=fields, buffers=buffers)


def nonzero_box(grey: BytesLike, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The box around the non-zero pixels of ``grey`` (grey8, ``width`` × ``height``, row-major):
    (x0, y0, x1, y1), pixel corners (x1 = last column + 1); None when every pixel is 0.

    Rows are compared with zeros in place (no copies), and each row is searched only where it lies
    outside the box found so far: at 12 MP, a few milliseconds in pure Python."""
    data = bytes(grey)
    if len(data) != width * height:
        raise ValueError(f"grey: expected {width * height} bytes ({width}×{height}); got {len(data)}")
    zeros = bytes(width)
    y0, y1 = 0, height
    while y0 < height and data.startswith(zeros, y0 * width):
        y0 += 1
    if y0 == height:
        return None
    while data.startswith(zeros, (y1 - 1) * width):
        y1 -= 1
    x0, x1 = width, 0
    left, right = zeros, b""  # the zeros a row starts with left of x0, ends with right of x1
    for start in range(y0 * width, y1 * width, width):
        if not data.startswith(left, start):
            x0 -= len(data[start:start + x0].lstrip(b"\x00"))  # to the row's first non-zero
            left = zeros[:x0]
        if not data.endswith(right, start, start + width) or x1 == 0:
            x1 += len(data[start + x1:start + width].rstrip(b"\x00"))  # to the row's last non-zero
            right = zeros[:width - x1]
    return x0, y0, x1, y1


def cropped(item: Buffer) -> Buffer:
    """A whole grey8 buffer as the box where it is non-zero, placed by its spec's ``within`` (all zero: its
    top-left pixel); a buffer already placed, not grey8, or non-zero out to its four sides, as it is."""
    spec, data = item
    if spec.format != "grey8" or spec.within is not None:
        return item
    width = spec.width
    x0, y0, x1, y1 = nonzero_box(data, width, spec.height) or (0, 0, 1, 1)
    if (x1 - x0, y1 - y0) == (width, spec.height):
        return item  # the box is the whole image
    view = memoryview(data).cast("B")
    box = b"".join(view[start + x0:start + x1] for start in range(y0 * width, y1 * width, width))
    return BufferSpec(spec.name, "grey8", x1 - x0, y1 - y0, len(box), (x0, y0, width, spec.height)), box


def whole(item: Buffer) -> tuple[BufferSpec, bytes]:
    """A buffer as the whole image it is: a grey8 buffer ``within`` a larger image placed in that image,
    0 around it (one allocation, the rows copied once); any other buffer's payload as bytes."""
    spec, data = item
    if spec.within is None:
        return spec, bytes(data)
    x, y, full_width, full_height = spec.within
    width, height = spec.width, spec.height
    view = memoryview(data).cast("B")
    gap = bytes(full_width - width)  # the end of one row and the start of the next
    pieces: list[BytesLike] = [bytes(y * full_width + x)]
    for row in range(height):
        if row:
            pieces.append(gap)
        pieces.append(view[row * width:(row + 1) * width])
    pieces.append(bytes((full_height - y - height) * full_width + full_width - x - width))
    return dataclasses.replace(spec, width=full_width, height=full_height, size=full_width * full_height,
                               within=None), b"".join(pieces)
