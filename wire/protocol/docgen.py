"""Regenerate the generated sections of ``docs/protocol.md`` from :mod:`.schemas`.

Usage: ``python -m wire.protocol.docgen docs/protocol.md`` (rewrites the file in
place; the tests fail while the document and the schemas disagree).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .schemas import error_codes_markdown, schemas_markdown

SECTIONS = {"error-codes": error_codes_markdown, "schemas": schemas_markdown}
"""Marker name → generator; the doc holds ``<!-- begin NAME -->`` ... ``<!-- end NAME -->``."""


def generated_block(name: str) -> str:
    """The text between the markers of section ``name``, as it must appear in the doc."""
    return f"<!-- begin {name} (generated: python -m wire.protocol.docgen) -->\n\n{SECTIONS[name]()}\n<!-- end {name} -->"


def render(text: str) -> str:
    """``text`` with every generated section replaced by its current content.

    Raises
    ------
    ValueError
        If a section's markers are missing.
    """
    for name in SECTIONS:
        begin, end = f"<!-- begin {name}", f"<!-- end {name} -->"
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            raise ValueError(f"text: no '{begin} ... {end}' markers")
        text = text[:i] + generated_block(name) + text[j + len(end):]
    return text


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m wire.protocol.docgen docs/protocol.md", file=sys.stderr)
        return 2
    path = Path(args[0])
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
