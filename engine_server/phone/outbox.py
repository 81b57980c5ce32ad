"""The outbox: phone cut-outs on disk until an editor has placed them (survives restarts and crashes).

Per delivery, in ``<config dir>/outbox/`` (folder 0700, files 0600): ``<id>.json``, its
record ({id, name, created, state, width, height, x, y, target, photo_width,
photo_height, scale, source}); ``<id>.photo``, the phone's photo as it arrived, while
the cut-out is being made; ``<id>.png``, the RGBA cut-out, once made.

Every file is written durably (:func:`wire.config.write_private`: a temporary
file, fsync, rename, folder fsync), and a record is always written after the file it
names, so a record that exists names a complete file. ``phone_cut`` keeps the photo
(state "cutting") *before* it answers with the cut id, so the cut survives a crash or a
stop: an engine that finds a "cutting" record makes the cut-out again from the photo.
The finished cut-out makes it "staged"; ``phone_paste`` makes it "pending" (with its
position and target); the editor's ``placed`` ok removes it. A delivery is never sent
twice once removed. A write that fails (disk full, read-only, I/O error) raises
:class:`~core.errors.StorageError` saying so, and leaves nothing half-written.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from core.errors import StorageError
from wire import config

CUTTING = "cutting"
STAGED = "staged"
PENDING = "pending"
STAGED_MAX_AGE_S = 24 * 3600.0
"""Staged (and cutting) cuts older than this are dropped when the engine starts."""
ORPHAN_AGE_S = 60.0
"""A file without its record is a crash's leftover once this old (younger: its record may be on its way)."""


@dataclass(frozen=True)
class Delivery:
    """One cut-out's record.

    id: "d" + 16 hex digits (also the ``cut`` id phone_cut returns).
    created: seconds since the epoch (deliveries go out oldest first).
    state: "cutting" (photo kept, cut-out not made yet), "staged" (cut, not yet pasted) or
        "pending" (to be placed in an editor).
    x, y: document pixels of the cut-out's top-left, or both None (centre it).
    target: the editor's client name it is for, or None (any editor).
    width, height: the cut-out's size in pixels (0 while cutting).
    photo_width, photo_height: the size of the phone photo it was cut from (None: unknown).
    scale: the factor it is placed at (None: not decided yet — fitted to the document on delivery).
    source: while cutting, the kept photo's buffer spec (format, width, height); else None.
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
    source: tuple[str, int, int] | None = None


def new_id() -> str:
    """A fresh delivery id: "d" + 16 hex digits."""
    return f"d{secrets.token_hex(8)}"


def storage_error(exc: OSError, path: Path) -> StorageError:
    """The error a client gets when the outbox cannot write ``path``: what the disk said, and where."""
    reason = exc.strerror or str(exc)
    reason = reason[:1].lower() + reason[1:]
    return StorageError(f"the engine could not save the cut-out: {reason} ({path})")


def _write(path: Path, data: bytes) -> None:
    """``data`` into ``path``, durably and privately (see the module); raises StorageError."""
    try:
        config.write_private(path, data)
    except OSError as exc:
        raise storage_error(exc, path) from exc


class Outbox:
    """The deliveries in ``folder`` (created, mode 0700, at the first write); the files are the only state."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _json(self, delivery_id: str) -> Path:
        return self.folder / f"{delivery_id}.json"

    def png_path(self, delivery_id: str) -> Path:
        return self.folder / f"{delivery_id}.png"

    def photo_path(self, delivery_id: str) -> Path:
        return self.folder / f"{delivery_id}.photo"

    def _save(self, delivery: Delivery) -> Delivery:
        _write(self._json(delivery.id), json.dumps(asdict(delivery)).encode())
        return delivery

    def keep_photo(self, delivery_id: str, photo: bytes, *, source: tuple[str, int, int], name: str) -> Delivery:
        """Keep a phone photo (``photo``: the buffer as received, ``source`` its (format, width, height))
        durably as a "cutting" record, so that its cut survives the engine stopping. Raises StorageError."""
        _write(self.photo_path(delivery_id), photo)
        return self._save(Delivery(delivery_id, name, time.time(), CUTTING, 0, 0, source=tuple(source)))

    def photo(self, delivery_id: str) -> bytes:
        """A cutting record's kept photo. Raises FileNotFoundError once its cut-out is made."""
        return self.photo_path(delivery_id).read_bytes()

    def stage(self, delivery_id: str, png: bytes, *, name: str, width: int, height: int,
              photo_size: tuple[int, int] | None = None) -> Delivery:
        """Keep a finished cut-out (``png``: an RGBA PNG file of ``width`` x ``height``, cut from a
        photo of ``photo_size`` = (width, height)) as staged, in place of its kept photo. Raises StorageError."""
        kept = self.get(delivery_id)
        created = kept.created if kept is not None else time.time()
        _write(self.png_path(delivery_id), png)
        photo_w, photo_h = photo_size if photo_size is not None else (None, None)
        staged = self._save(Delivery(delivery_id, name, created, STAGED, width, height,
                                     photo_width=photo_w, photo_height=photo_h))
        self.photo_path(delivery_id).unlink(missing_ok=True)  # not needed any more (drop_stale removes it if this is lost)
        return staged

    def get(self, delivery_id: str) -> Delivery | None:
        """The delivery's record, or None when there is none (never cut, or placed and removed)."""
        try:
            obj = json.loads(self._json(delivery_id).read_text())
            delivery = Delivery(**obj)
        except (OSError, ValueError, TypeError):
            return None
        if delivery.source is not None:
            delivery = replace(delivery, source=tuple(delivery.source))
        needs = self.photo_path(delivery_id) if delivery.state == CUTTING else self.png_path(delivery_id)
        return delivery if needs.exists() else None

    def png(self, delivery_id: str) -> bytes:
        """The cut-out's PNG file. Raises FileNotFoundError once removed."""
        return self.png_path(delivery_id).read_bytes()

    def make_pending(self, delivery_id: str, *, x: int | None, y: int | None, target: str | None,
                     name: str | None = None, scale: float | None = None) -> Delivery:
        """Address a staged (or re-address a pending) delivery. Raises KeyError if it is gone
        or not cut out yet, StorageError if the record cannot be written."""
        delivery = self.get(delivery_id)
        if delivery is None or delivery.state == CUTTING:
            raise KeyError(delivery_id)
        changed = replace(delivery, state=PENDING, x=x, y=y, target=target, name=name or delivery.name,
                          scale=scale)
        return self._save(changed)

    def remove(self, delivery_id: str) -> bool:
        """Delete a delivery (record first: a file without its record is ignored). True if it existed."""
        existed = False
        for path in (self._json(delivery_id), self.png_path(delivery_id), self.photo_path(delivery_id)):
            try:
                path.unlink()
                existed = True
            except FileNotFoundError:
                pass
        return existed

    def all(self) -> list[Delivery]:
        """Every complete delivery (cutting ones included), oldest first."""
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
        """Remove staged and cutting cuts older than ``max_age_s`` (never pending ones) and the
        leftovers of interrupted writes; returns the ids dropped."""
        now = time.time() if now is None else now
        dropped = [d.id for d in self.all() if d.state in (STAGED, CUTTING) and now - d.created > max_age_s]
        for delivery_id in dropped:
            self.remove(delivery_id)
        for path in self.folder.glob(".*.tmp"):
            path.unlink(missing_ok=True)
        for path in [*self.folder.glob("d*.png"), *self.folder.glob("d*.photo")]:
            if self._leftover(path, now):
                path.unlink(missing_ok=True)
        return dropped

    def _leftover(self, path: Path, now: float) -> bool:
        """Whether ``path`` (a cut-out or a kept photo) is a crash's leftover: no record names it
        (older than ORPHAN_AGE_S), or a kept photo whose cut-out was made."""
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            return False  # removed while this looked
        if not self._json(path.stem).exists():
            return age > ORPHAN_AGE_S
        if path.suffix != ".photo":
            return False
        record = self.get(path.stem)
        return record is not None and record.state != CUTTING
