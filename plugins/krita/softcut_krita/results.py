"""What the plug-in remembers of the results it put into documents: the last one (live edge edits)
and the last one of each document (Add to Subject and Subtract from Subject correct it).

Kept in memory for the Krita session, never in the document: a result id means something only to
the engine that made it, and the matte is kept here because a selection the plug-in wrote is
soon replaced by the user's next rough selection. Krita's ``Document`` objects are wrappers made
afresh on each call; two of them are the same document when ``==`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DOCUMENTS_KEPT = 8
"""How many documents' last results are kept (the oldest is let go first)."""


@dataclass
class Inserted:
    """A result put into a document.

    doc: the Krita Document. output: "selection", "mask" or "layer". rect: (x, y, width, height) of
    the source on the canvas. result_id: the engine's id of the result (None: the engine gave none).
    node_id: the mask or cut-out layer made (its uniqueId; None for the selection). source_id: the
    layer the image was read from (its uniqueId; None for the merged image). alpha: the matte as
    written, grey8 over ``rect`` (live edge edits included).
    """

    doc: Any
    output: str
    rect: tuple[int, int, int, int]
    result_id: str | None
    node_id: Any = None
    source_id: Any = None
    alpha: bytes = b""

    def same_source(self, source_id: Any, rect: tuple[int, int, int, int]) -> bool:
        """Whether this result was made from the pixels of ``source_id`` (None: the merged image) at ``rect``."""
        return self.source_id == source_id and tuple(self.rect) == tuple(rect)


class LastResults:
    """The last result of each document, the latest :data:`DOCUMENTS_KEPT` documents at most."""

    def __init__(self, *, kept: int = DOCUMENTS_KEPT) -> None:
        if kept < 1:
            raise ValueError(f"kept: expected at least 1; got {kept}")
        self.kept = kept
        self._results: list[Inserted] = []

    def remember(self, inserted: Inserted) -> None:
        """``inserted`` is now its document's last result."""
        self._results = [r for r in self._results if r.doc != inserted.doc] + [inserted]
        del self._results[:-self.kept]

    def of(self, doc) -> Inserted | None:
        """The last result put into ``doc``, or None."""
        return next((r for r in reversed(self._results) if r.doc == doc), None)
