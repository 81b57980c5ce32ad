"""Bounded caches: model-stage outputs by image content, finished mattes by result id.

Both are least-recently-used caches bounded by the bytes of the arrays they
hold, so a busy engine's memory stays flat however many images pass through.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np


def content_key(*parts: bytes | str | int | float) -> str:
    """sha256 over the given parts (image bytes, model name, settings)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, (bytes, bytearray, memoryview)) else repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def nbytes(value: Any) -> int:
    """Bytes held by the numpy arrays in a value (dataclass fields, tuples, dicts; an object that says
    its own ``nbytes``), roughly."""
    if isinstance(value, np.ndarray) or isinstance(getattr(type(value), "nbytes", None), property):
        return int(value.nbytes)
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(nbytes(getattr(value, name)) for name in value.__dataclass_fields__)
    return 0


class LruCache:
    """A least-recently-used mapping bounded by :func:`nbytes` of its values."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.bytes = 0

    def get(self, key: str) -> Any | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: str, value: Any) -> None:
        size = nbytes(value)
        if key in self._items:
            self.bytes -= self._items.pop(key)[1]
        if size > self.max_bytes:
            return
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped

    def __len__(self) -> int:
        return len(self._items)
