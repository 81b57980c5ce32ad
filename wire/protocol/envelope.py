"""The message envelope: :class:`Message`, :class:`BufferSpec`, message ids and (spec, payload) buffers.

A message is a type, an id, the ``ref`` of the request it answers (replies), type-specific fields and
binary buffers; :func:`wire.protocol.codec.encode` turns it into frames. The constructors of each type
are in :mod:`.client_messages` and :mod:`.engine_messages`.

Standard library only (editor plug-ins vendor this package).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from .constants import BUFFER_FORMATS, ID_CHARACTERS, ID_MAX_LENGTH, PROTOCOL_VERSION, RAW_CHANNELS

ENVELOPE_KEYS = frozenset({"v", "type", "id", "ref", "buffers"})
"""Keys of the envelope; a message's ``fields`` may not use them."""

_ID_RE = re.compile(f"[{ID_CHARACTERS}]{{1,{ID_MAX_LENGTH}}}")

BytesLike = Union[bytes, bytearray, memoryview]


def is_valid_id(value: object) -> bool:
    """Whether ``value`` is a valid message id (1–64 characters from A–Z a–z 0–9 _ . : -)."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def new_id(prefix: str = "m") -> str:
    """A random message id, ``prefix`` + 16 hex digits (unique without coordination).

    Raises
    ------
    ValueError
        If the id would not be valid (``prefix`` too long or with other characters).
    """
    out = f"{prefix}{secrets.token_hex(8)}"
    if not is_valid_id(out):
        raise ValueError(f"prefix: expected up to {ID_MAX_LENGTH - 16} characters from {ID_CHARACTERS}; got {prefix!r}")
    return out


class IdGenerator:
    """Sequential message ids for one sender: ``c1``, ``c2``, ... (deterministic, for logs and tests).

    Parameters
    ----------
    prefix : str, optional
        Prepended to the counter.
    """

    def __init__(self, prefix: str = "c") -> None:
        if not is_valid_id(prefix + "0"):
            raise ValueError(f"prefix: expected characters from {ID_CHARACTERS}; got {prefix!r}")
        self._prefix = prefix
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter)}"


@dataclass(frozen=True)
class BufferSpec:
    """The description of one binary payload.

    Parameters
    ----------
    name : str
        What the payload is (``image``, ``guide``, or an output name such as ``alpha``).
    format : str
        ``rgba8``, ``rgb8``, ``grey8`` (raw 8-bit pixels, row-major, top-down, channels
        interleaved; RGBA is straight, not premultiplied), ``png`` or ``jpeg``.
    width, height : int
        Pixel size (> 0); for ``png`` the size the PNG's header must state, for ``jpeg``
        the stored size its SOF marker states (before any EXIF rotation).
    size : int or None, optional
        Payload bytes. None: filled in from the payload by ``encode``. For raw formats
        it is ``width * height * channels``.
    within : (x, y, full_width, full_height) or None, optional
        ``grey8`` only: the payload is the ``width`` x ``height`` rectangle at (x, y) of a
        ``full_width`` x ``full_height`` grey image that is 0 everywhere else (a mask or a
        matte sent as the box where it is non-zero). None: the payload is the whole image.

    Raises
    ------
    ValueError
        If a field is out of range or a raw size does not match the pixel size.
    """

    name: str
    format: str
    width: int
    height: int
    size: int | None = None
    within: tuple[int, int, int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 1 <= len(self.name) <= 128:
            raise ValueError(f"name: expected a string of 1 to 128 characters; got {self.name!r}")
        if self.format not in BUFFER_FORMATS:
            raise ValueError(f"format: expected one of {', '.join(BUFFER_FORMATS)}; got {self.format!r}")
        for key in ("width", "height"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{key}: expected an integer > 0; got {value!r}")
        if self.size is not None:
            if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 1:
                raise ValueError(f"size: expected an integer > 0; got {self.size!r}")
            raw = self.raw_size
            if raw is not None and self.size != raw:
                raise ValueError(f"size: expected {self.width}x{self.height}x{self.channels} = {raw} for {self.format}; got {self.size}")
        if self.within is not None:
            self._check_within()

    def _check_within(self) -> None:
        within = self.within
        if isinstance(within, list):  # as JSON gives it
            object.__setattr__(self, "within", tuple(within))
            within = self.within
        if self.format != "grey8":
            raise ValueError(f"within: only a grey8 buffer can be part of a larger image; {self.name!r} is {self.format}")
        if (not isinstance(within, tuple) or len(within) != 4
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in within)):
            raise ValueError(f"within: expected (x, y, full_width, full_height) integers; got {within!r}")
        x, y, full_width, full_height = within
        if x < 0 or y < 0 or x + self.width > full_width or y + self.height > full_height:
            raise ValueError(f"within: the {self.width}x{self.height} rectangle at ({x}, {y}) does not lie inside "
                             f"{full_width}x{full_height}")

    @property
    def channels(self) -> int | None:
        """Bytes per pixel of a raw format; None for ``png``."""
        return RAW_CHANNELS.get(self.format)

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def full_size(self) -> tuple[int, int]:
        """(width, height) of the image the payload is: ``within``'s full size, else the payload's own."""
        return (self.width, self.height) if self.within is None else (self.within[2], self.within[3])

    @property
    def full_pixels(self) -> int:
        full_width, full_height = self.full_size
        return full_width * full_height

    @property
    def raw_size(self) -> int | None:
        """``width * height * channels`` for raw formats; None for ``png``."""
        channels = self.channels
        return None if channels is None else self.width * self.height * channels

    def to_json(self) -> dict[str, Any]:
        """The spec as it appears in a message's ``buffers`` (``size`` must be known)."""
        if self.size is None:
            raise ValueError(f"size: unknown for buffer {self.name!r}; attach the payload or give the size")
        out = {"name": self.name, "format": self.format, "width": self.width, "height": self.height, "size": self.size}
        if self.within is not None:
            out["within"] = list(self.within)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> BufferSpec:
        """A spec from its JSON form (already checked against the schema; ValueError for a ``within``
        that does not fit)."""
        within = obj.get("within")
        return cls(str(obj["name"]), str(obj["format"]), int(obj["width"]), int(obj["height"]), int(obj["size"]),
                   None if within is None else tuple(int(v) for v in within))


Buffer = tuple[BufferSpec, BytesLike]
"""A buffer spec and its payload."""


@dataclass(frozen=True)
class Message:
    """One protocol message: the envelope, type-specific fields and attached binary payloads.

    Parameters
    ----------
    type : str
        The message type, e.g. ``select_subject`` or ``result``.
    id : str
        Unique per sender (1–64 characters from A–Z a–z 0–9 _ . : -).
    ref : str or None, optional
        Replies and events: the id of the request they answer. None on requests
        (and on ``error`` about a message whose id could not be read).
    fields : dict, optional
        The type-specific fields (JSON values), without the envelope keys.
    buffers : list of (BufferSpec, bytes), optional
        The payloads sent as binary frames after the JSON frame, in order.
    """

    type: str
    id: str
    ref: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    buffers: list[Buffer] = field(default_factory=list)

    @property
    def specs(self) -> list[BufferSpec]:
        """The buffer specs, in order."""
        return [spec for spec, _ in self.buffers]

    def buffer(self, name: str) -> Buffer:
        """The buffer called ``name``.

        Raises
        ------
        KeyError
            If the message has no such buffer.
        """
        for spec, data in self.buffers:
            if spec.name == name:
                return spec, data
        raise KeyError(f"message {self.id!r} has no buffer {name!r}; it has {[s.name for s in self.specs]}")

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the message's text frame (buffer sizes filled in from the payloads).

        Key order: ``v``, ``type``, ``id``, ``ref`` (when not None), ``buffers`` (when
        any), then ``fields`` in their order.

        Raises
        ------
        ValueError
            If the id is invalid, a field uses an envelope key, or a payload's length
            disagrees with its spec.
        """
        if not is_valid_id(self.id):
            raise ValueError(f"id: expected 1 to {ID_MAX_LENGTH} characters from {ID_CHARACTERS}; got {self.id!r}")
        if not isinstance(self.type, str) or not self.type:
            raise ValueError(f"type: expected a non-empty string; got {self.type!r}")
        if self.ref is not None and not is_valid_id(self.ref):
            raise ValueError(f"ref: expected a message id or None; got {self.ref!r}")
        clash = ENVELOPE_KEYS.intersection(self.fields)
        if clash:
            raise ValueError(f"fields: may not contain the envelope keys {sorted(clash)}")
        obj: dict[str, Any] = {"v": PROTOCOL_VERSION, "type": self.type, "id": self.id}
        if self.ref is not None:
            obj["ref"] = self.ref
        if self.buffers:
            obj["buffers"] = [_filled(spec, data).to_json() for spec, data in self.buffers]
        obj.update(self.fields)
        return obj


def payload_size(data: BytesLike) -> int:
    """Bytes in a payload (``nbytes`` for memoryviews of multi-byte items)."""
    return data.nbytes if isinstance(data, memoryview) else len(data)


def _filled(spec: BufferSpec, data: BytesLike) -> BufferSpec:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"buffer {spec.name!r}: expected bytes, bytearray or memoryview; got {type(data).__name__}")
    n = payload_size(data)
    if spec.size is None:
        return dataclasses.replace(spec, size=n)  # checks raw sizes
    if spec.size != n:
        raise ValueError(f"buffer {spec.name!r}: spec says {spec.size} bytes; payload has {n}")
    return spec


def buffer(name: str, data: BytesLike, *, format: str, width: int, height: int,
           within: tuple[int, int, int, int] | None = None) -> Buffer:
    """A (spec, payload) pair with the size taken from the payload.

    Parameters
    ----------
    name : str
        The buffer's name (``image``, ``guide``, ``alpha``, ...).
    data : bytes-like
        Raw pixels (``width * height * channels`` bytes, row-major, top-down) or a PNG file.
    format : str
        ``rgba8``, ``rgb8``, ``grey8`` or ``png``.
    width, height : int
        The image's size in pixels.
    within : (x, y, full_width, full_height) or None, optional
        A grey8 payload that is one rectangle of a larger image, 0 elsewhere (:class:`BufferSpec`).

    Raises
    ------
    ValueError
        If a raw payload's length is not ``width * height * channels``, or ``within`` does not fit.
    """
    spec = BufferSpec(name, format, width, height, within=within)
    return _filled(spec, data), data


def buffer_key(item: Buffer) -> str:
    """The content key of a buffer: sha256 (64 hex digits) over its format, size and payload.

    ``select_object`` keeps a prepared image under its image buffer's key, so a client that knows
    the key (from a reply, or computed here from the pixels it would send) sends the pixels once.
    """
    spec, data = item
    placed = "" if spec.within is None else "within {} {} {} {}\n".format(*spec.within)
    digest = hashlib.sha256(f"{spec.format}\n{spec.width}\n{spec.height}\n{placed}".encode())
    digest.update(data)
    return digest.hexdigest()


def as_buffer(item: Any) -> Buffer:
    """A (spec, data) pair, or any object with name, format, width, height and data attributes."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], BufferSpec):
        return item
    try:
        return buffer(item.name, item.data, format=item.format, width=item.width, height=item.height,
                      within=getattr(item, "within", None))
    except AttributeError:
        raise TypeError(
            f"buffers: expected (BufferSpec, bytes) pairs or objects with name, format, width, height, data; "
            f"got {type(item).__name__}"
        ) from None
