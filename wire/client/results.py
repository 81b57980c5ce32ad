"""What a request takes and gives back: image buffers (:func:`raw_image`, :func:`png_image`,
:func:`jpeg_image`) and a finished request's :class:`Result`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..protocol import codec, messages
from ..protocol.messages import Buffer, BufferSpec, Message, whole


@dataclass
class Result:
    """A finished request: its reply fields, output payloads by name and their specs."""

    fields: dict[str, Any]
    buffers: dict[str, bytes] = field(default_factory=dict)
    specs: dict[str, BufferSpec] = field(default_factory=dict)

    @property
    def result_id(self) -> str | None:
        return self.fields.get("result")


def raw_image(width: int, height: int, layout: str, pixels: bytes, *, name: str = "image") -> Buffer:
    """A raw 8-bit image buffer ("rgba8", "rgb8" or "grey8", row-major, top-down)."""
    return messages.buffer(name, pixels, format=layout, width=width, height=height)


def jpeg_image(data: bytes, *, name: str = "image") -> Buffer:
    """A JPEG file's bytes as an image buffer (its stored size is read from the SOF marker)."""
    try:
        width, height = codec.jpeg_size(data)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return messages.buffer(name, data, format="jpeg", width=width, height=height)


def png_image(data: bytes, *, name: str = "image") -> Buffer:
    """A PNG file's bytes as an image buffer (its size is read from the PNG header)."""
    try:
        width, height = codec.png_size(data)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return messages.buffer(name, data, format="png", width=width, height=height)


def _result(reply: Message) -> Result:
    buffers = [whole(item) for item in reply.buffers]  # a cropped alpha (crop_alpha) back to the image's size
    return Result(
        reply.fields,
        {spec.name: data for spec, data in buffers},
        {spec.name: spec for spec, _ in buffers},
    )


def _named(image: Buffer, name: str) -> Buffer:
    """``image`` with its buffer called ``name`` (what the request expects)."""
    spec, data = image
    if spec.name == name:
        return image
    return dataclasses.replace(spec, name=name), data
