"""The images a batch command (``cut``, ``client select-subject``) reads: files, folders searched
recursively with ``--glob``, and ``-`` for standard input; each checked from its header (exists,
readable, a format Softcut reads, within ``--max-pixels``) before any model is opened."""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import ParameterError
from core.imageio import decode_image, load_image, read_header, read_header_bytes

DEFAULT_GLOB = "*.png,*.jpg,*.jpeg,*.webp,*.tif,*.tiff"
"""What a folder input takes by default: the image files Softcut reads (any case)."""

STDIN = "-"


@dataclass(frozen=True)
class Input:
    """One image to process: ``path`` (None for standard input), ``name`` as messages say it, and
    ``relative``: where its outputs go inside an output folder (its path below the folder input it
    came from, else its file name)."""

    path: Path | None
    name: str
    relative: Path
    data: bytes | None = field(default=None, repr=False)

    def check(self, max_pixels: int) -> None:
        """Raise :class:`core.errors.ImageInputError` unless the header says the image is usable."""
        if self.path is None:
            read_header_bytes(self.data or b"", name=self.name, max_pixels=max_pixels)
        else:
            read_header(self.path, max_pixels=max_pixels)

    def load(self, max_pixels: int) -> np.ndarray:
        """The decoded image, (H, W, 3) float32 RGB in [0, 1]."""
        if self.path is None:
            return decode_image(self.data or b"", name=self.name, max_pixels=max_pixels)
        return load_image(self.path, max_pixels=max_pixels)


def patterns(glob: str) -> list[str]:
    """``--glob`` as a list of lower-case patterns (comma-separated)."""
    found = [p.strip().lower() for p in glob.split(",") if p.strip()]
    if not found:
        raise ParameterError("--glob: expected patterns such as '*.jpg,*.png'")
    return found


def matches(path: Path, globs: list[str]) -> bool:
    """Whether ``path``'s name matches one of ``globs`` (case-insensitive)."""
    name = path.name.lower()
    return not name.startswith(".") and any(fnmatch.fnmatch(name, g) for g in globs)


def folder_files(folder: Path, globs: list[str], *, skip: list[Path] = ()) -> list[Path]:
    """The files below ``folder`` (recursively, sorted) that match ``globs``, leaving out those inside
    any of ``skip`` (the output folders, when they are inside the input)."""
    skipped = [s.resolve() for s in skip]
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and matches(path, globs):
            resolved = path.resolve()
            if not any(resolved.is_relative_to(s) for s in skipped):
                found.append(path)
    return found


def expand(specs: list[str], glob: str, *, skip: list[Path] = ()) -> tuple[list[Input], bool]:
    """The inputs named on the command line, and whether any was a folder (whose outputs then go
    into an output folder even when it holds one image). Missing files stay in the list (their check
    fails, naming them); ``-`` reads standard input, once."""
    globs = patterns(glob)
    items: list[Input] = []
    folders = False
    for spec in specs:
        if spec == STDIN:
            if any(item.path is None for item in items):
                raise ParameterError("INPUT: '-' (standard input) given twice")
            items.append(Input(None, "<stdin>", Path("stdin.png"), sys.stdin.buffer.read()))
            continue
        path = Path(spec)
        if path.is_dir():
            folders = True
            items += [Input(f, str(f), f.relative_to(path)) for f in folder_files(path, globs, skip=skip)]
        else:
            items.append(Input(path, str(path), Path(path.name)))
    return items, folders


def refuse_same_outputs(items: list[Input]) -> None:
    """Raise :class:`ParameterError` when two inputs would write the same outputs (``a.jpg`` and
    ``a.png`` in one folder: both give ``a.png``), before any work, naming both."""
    seen: dict[Path, str] = {}
    for item in items:
        stem = item.relative.with_suffix("")
        if stem in seen:
            raise ParameterError(f"INPUT: {seen[stem]} and {item.name} would write the same outputs "
                                 f"({stem}.*); rename one or give them separately with their own -o")
        seen[stem] = item.name
