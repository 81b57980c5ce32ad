"""The outbox: phone cut-outs on disk until an editor has placed them (survives restarts).

Per delivery, in ``<config dir>/outbox/``: ``<id>.png`` (the RGBA cut-out) and
``<id>.json`` ({id, name, created, state, width, height, x, y, target, photo_width,
photo_height, scale}). Each file is
written to a temporary name and renamed into place, and the PNG is always written
before its JSON, so a JSON that exists names a complete PNG. ``phone_cut`` stages a
delivery; ``phone_paste`` makes it pending (with its position and target); the
editor's ``placed`` ok removes it. A delivery is never sent twice once removed.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

STAGED = "staged"
PENDING = "pending"
STAGED_MAX_AGE_S = 24 * 3600.0
"""Staged cuts older than this are dropped when the engine starts."""


@dataclass(frozen=True)
class Delivery:
    """One cut-out's record.

    id: "d" + 16 hex digits (also the ``cut`` id phone_cut returns).
    created: seconds since the epoch (deliveries go out oldest first).
    state: "staged" (cut, not yet pasted) or "pending" (to be placed in an editor).
    x, y: document pixels of the cut-out's top-left, or both None (centre it).
    target: the editor's client name it is for, or None (any editor).
    width, height: the cut-out's size in pixels.
    photo_width, photo_height: the size of the phone photo it was cut from (None: unknown).
    scale: the factor it is placed at (None: not decided yet — fitted to the document on delivery).
    """

    id: str
    name: str
    created: float
    state: str
    width: int
    height: int
    x: int | None = None
    y: int | None = None
    target: str | None = None
    photo_width: int | None = None
    photo_height: int | None = None
    scale: float | None = None


def new_id() -> str:
    """A fresh delivery id: "d" + 16 hex digits."""
    return f"d{secrets.token_hex(8)}"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class Outbox:
    """The deliveries in ``folder`` (created at the first :meth:`stage`); the files are the only state."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _json(self, delivery_id: str) -> Path:
        return self.folder / f"{delivery_id}.json"

    def png_path(self, delivery_id: str) -> Path:
        return self.folder / f"{delivery_id}.png"

    def _save(self, delivery: Delivery) -> Delivery:
        _write_atomic(self._json(delivery.id), json.dumps(asdict(delivery)).encode())
        return delivery

    def stage(self, delivery_id: str, png: bytes, *, name: str, width: int, height: int,
              photo_size: tuple[int, int] | None = None) -> Delivery:
        """Keep a finished cut-out (``png``: an RGBA PNG file of ``width`` x ``height``, cut from a
        photo of ``photo_size`` = (width, height)) as staged."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.png_path(delivery_id), png)
        photo_w, photo_h = photo_size if photo_size is not None else (None, None)
        return self._save(Delivery(delivery_id, name, time.time(), STAGED, width, height,
                                   photo_width=photo_w, photo_height=photo_h))

    def get(self, delivery_id: str) -> Delivery | None:
        """The delivery's record, or None when there is none (never cut, or placed and removed)."""
        try:
            obj = json.loads(self._json(delivery_id).read_text())
        except (OSError, ValueError):
            return None
        if not self.png_path(delivery_id).exists():
            return None
        return Delivery(**obj)

    def png(self, delivery_id: str) -> bytes:
        """The cut-out's PNG file. Raises FileNotFoundError once removed."""
        return self.png_path(delivery_id).read_bytes()

    def make_pending(self, delivery_id: str, *, x: int | None, y: int | None, target: str | None,
                     name: str | None = None, scale: float | None = None) -> Delivery:
        """Address a staged (or re-address a pending) delivery. Raises KeyError if it is gone."""
        delivery = self.get(delivery_id)
        if delivery is None:
            raise KeyError(delivery_id)
        changed = replace(delivery, state=PENDING, x=x, y=y, target=target, name=name or delivery.name,
                          scale=scale)
        return self._save(changed)

    def remove(self, delivery_id: str) -> bool:
        """Delete a delivery (JSON first: a PNG without JSON is ignored). True if it existed."""
        existed = False
        for path in (self._json(delivery_id), self.png_path(delivery_id)):
            try:
                path.unlink()
                existed = True
            except FileNotFoundError:
                pass
        return existed

    def all(self) -> list[Delivery]:
        """Every complete delivery, oldest first."""
        out = []
        for path in self.folder.glob("d*.json"):
            delivery = self.get(path.stem)
            if delivery is not None:
                out.append(delivery)
        return sorted(out, key=lambda d: (d.created, d.id))

    def pending(self) -> list[Delivery]:
        """The deliveries waiting for an editor, oldest first."""
        return [d for d in self.all() if d.state == PENDING]

    def drop_stale(self, max_age_s: float = STAGED_MAX_AGE_S, now: float | None = None) -> list[str]:
        """Remove staged cuts older than ``max_age_s`` and leftovers of interrupted writes; returns the ids dropped."""
        now = time.time() if now is None else now
        dropped = [d.id for d in self.all() if d.state == STAGED and now - d.created > max_age_s]
        for delivery_id in dropped:
            self.remove(delivery_id)
        for path in self.folder.glob(".*.tmp"):
            path.unlink(missing_ok=True)
        for path in self.folder.glob("d*.png"):
            try:
                orphan = not self._json(path.stem).exists() and now - path.stat().st_mtime > 60
            except FileNotFoundError:
                continue  # removed while this looked
            if orphan:
                path.unlink(missing_ok=True)  # a PNG whose JSON was never written (crash while staging)
        return dropped
