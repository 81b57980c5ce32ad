"""The generated sections of ``docs/protocol.md``: the schema reference and the error code table.

Usage: ``python -m wire.protocol.docgen docs/protocol.md`` (rewrites the file in
place; the tests fail while the document and the schemas disagree).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .errors import ERROR_CODES, ERROR_DESCRIPTIONS
from .reply_schemas import EDITOR_REPLY_SCHEMAS, ENGINE_REQUEST_SCHEMAS, REPLY_SCHEMAS
from .request_schemas import REQUEST_SCHEMAS


def _pretty(value: Any, indent: int = 0, width: int = 100) -> str:
    """JSON with nested containers on one line when they fit in ``width`` columns."""
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or len(flat) + indent <= width or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {_pretty(v, indent + 2, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + _pretty(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def schemas_markdown() -> str:
    """The schema reference section of ``docs/protocol.md`` (the doc must contain it verbatim)."""
    parts = []
    tables = (
        ("Client → engine", REQUEST_SCHEMAS),
        ("Engine → client", REPLY_SCHEMAS),
        ("Engine → editor (engine requests)", ENGINE_REQUEST_SCHEMAS),
        ("Editor → engine (answers to engine requests)", EDITOR_REPLY_SCHEMAS),
    )
    for direction, table in tables:
        parts.append(f"### {direction}\n")
        for type_, schema in table.items():
            parts.append(f"#### `{type_}`\n\n{schema['description']}\n\n```json schema\n{_pretty(schema)}\n```\n")
    return "\n".join(parts)


def error_codes_markdown() -> str:
    """The error code table of ``docs/protocol.md`` (the doc must contain it verbatim)."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| `{code}` | {ERROR_DESCRIPTIONS[code]} |" for code in ERROR_CODES]
    return "\n".join(rows) + "\n"


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
