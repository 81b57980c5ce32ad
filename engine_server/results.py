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


def arrays(value: Any) -> list[np.ndarray]:
    """The numpy arrays a value holds (itself, dataclass fields, tuples, lists, dicts; an object that
    lists its own through ``arrays()``)."""
    if isinstance(value, np.ndarray):
        return [value]
    if callable(getattr(value, "arrays", None)):
        return list(value.arrays())
    if isinstance(value, dict):
        return [a for v in value.values() for a in arrays(v)]
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in arrays(v)]
    if hasattr(value, "__dataclass_fields__"):
        return [a for name in value.__dataclass_fields__ for a in arrays(getattr(value, name))]
    return []


def _memory_of(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (a view's base), so views and shared arrays count once."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _owners(value: Any) -> dict[int, np.ndarray]:
    """The blocks of memory a value's arrays live in, by id (views and shared arrays once)."""
    return {id(owner): owner for owner in map(_memory_of, arrays(value))}


def nbytes(value: Any) -> int:
    """Bytes held by the numpy arrays in a value (see :func:`arrays`), each block of memory once."""
    return sum(owner.nbytes for owner in _owners(value).values())


class LruCache:
    """A least-recently-used mapping bounded by the bytes of the arrays its values hold, each block of
    memory counted once however many values share it (a result keeps its prepared image's pixels)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[Any, list[int]]] = OrderedDict()
        self._held: dict[int, tuple[np.ndarray, int]] = {}  # id → (the memory's owner, how many values hold it)
        self.bytes = 0

    def get(self, key: str) -> Any | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: str, value: Any) -> None:
        if key in self._items:
            self._release(self._items.pop(key)[1])
        owners = _owners(value)
        if sum(owner.nbytes for owner in owners.values()) > self.max_bytes:
            return
        for ident, owner in owners.items():
            held, count = self._held.get(ident, (owner, 0))
            if not count:
                self.bytes += owner.nbytes
            self._held[ident] = (held, count + 1)
        self._items[key] = (value, list(owners))
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self._release(dropped)

    def _release(self, idents: list[int]) -> None:
        """One value fewer holds each of these blocks; a block no value holds stops counting."""
        for ident in idents:
            owner, count = self._held[ident]
            if count == 1:
                del self._held[ident]
                self.bytes -= owner.nbytes
            else:
                self._held[ident] = (owner, count - 1)

    def __len__(self) -> int:
        return len(self._items)
