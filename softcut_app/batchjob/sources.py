"""The inputs of a batch, listed lazily as ``(source, relative)`` pairs: ``source`` a path or URL the
workers read, ``relative`` its POSIX path below SRC, which names its outputs in DST.

SRC is a folder (searched recursively, sorted folder by folder, with ``--glob``), a list file (one path or
URL per line; ``#`` starts a comment; relative paths are taken from the list's folder) or an fsspec URL
(``s3://bucket/photos``, ``file:///data``; needs the optional ``fsspec`` package, :mod:`.storage`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from core.errors import ParameterError
from softcut_app.batchjob.storage import is_url, local_path, open_url
from softcut_app.commands.inputs import matches, patterns

LIST_SUFFIXES = (".txt", ".lst", ".list")
"""A SRC file with one of these suffixes is a list of inputs."""


def iter_sources(src: str, glob: str, *, skip: list[str] = ()) -> Iterator[tuple[str, str]]:
    """``(source, relative)`` for every input of SRC ``src`` (see the module's docstring); ``skip``: output
    folders (paths or URLs) left out, when they are inside SRC."""
    globs = patterns(glob)
    if is_url(src):
        yield from _url_sources(src, globs, skip)
    elif Path(src).is_dir():
        yield from _folder_sources(Path(src), globs, [p for p in map(local_path, skip) if p is not None])
    elif Path(src).is_file():
        if Path(src).suffix.lower() not in LIST_SUFFIXES:
            raise ParameterError(f"SRC {src}: expected a folder or a list file ({', '.join(LIST_SUFFIXES)}: one path "
                                 "or URL a line); for one image, use softcut cut")
        yield from _list_sources(Path(src))
    else:
        raise ParameterError(f"SRC {src}: no such folder or list file")


def _folder_sources(folder: Path, globs: list[str], skip: list[Path]) -> Iterator[tuple[str, str]]:
    skipped = [s.resolve() for s in skip]
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() not in skipped)
        for name in sorted(files):
            path = here / name
            if matches(path, globs):
                yield str(path), path.relative_to(folder).as_posix()


def _list_sources(listing: Path) -> Iterator[tuple[str, str]]:
    base = listing.resolve().parent
    with open(listing, encoding="utf-8") as f:
        for line in f:
            spec = line.strip()
            if not spec or spec.startswith("#"):
                continue
            if is_url(spec):
                yield spec, PurePosixPath(spec.split("://", 1)[1]).name
                continue
            path = Path(spec) if Path(spec).is_absolute() else base / spec
            try:
                relative = path.resolve().relative_to(base).as_posix()
            except ValueError:
                relative = path.name
            yield str(path), relative


def _url_sources(url: str, globs: list[str], skip: list[str]) -> Iterator[tuple[str, str]]:
    fs, root = open_url(url)
    protocol = url.split("://", 1)[0]
    root = root.rstrip("/")
    left_out = [_fs_path(s) for s in skip]
    for path in sorted(fs.find(root)):
        if matches(Path(path), globs) and not any(path.startswith(out + "/") for out in left_out):
            yield f"{protocol}://{path}", PurePosixPath(path).relative_to(root).as_posix()


def _fs_path(spec: str) -> str:
    """An output folder's path as a filesystem's ``find`` gives paths: a URL's path, or a local folder's."""
    return open_url(spec)[1] if is_url(spec) else str(Path(spec).resolve())


def check_outputs_apart(sources: Iterator[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Pass ``sources`` through, raising :class:`ParameterError` when two would write the same outputs
    (``a.jpg`` and ``a.png`` in one folder), naming both."""
    seen: dict[str, str] = {}
    for source, relative in sources:
        stem = str(PurePosixPath(relative).with_suffix(""))
        if stem in seen:
            raise ParameterError(f"SRC: {seen[stem]} and {source} would write the same outputs ({stem}.*); "
                                 "rename one")
        seen[stem] = source
        yield source, relative
