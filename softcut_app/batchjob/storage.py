"""Where a batch writes: a local folder, or an fsspec URL (``s3://bucket/out``, ``gs://…``, ``file:///data/out``,
chained ones such as ``simplecache::s3://…``) for DST, ``--alpha-out`` and ``--trimap-out``.

Every file is written under a temporary name beside its destination, on the same filesystem, and then moved
to its final name, so a half-written file never appears under that name: a local rename is atomic; on an
object store (s3, gcs) the move is a server-side copy, and the object appears whole or not at all. A run that
is killed may leave temporary files (``.NAME.PID[.HEX].tmp``); :func:`sweep` removes them when the next run
ends (one that found the killed run's unfinished manifest). URLs need the optional ``fsspec`` package
(``pip install 'softcut[urls]'``, plus ``s3fs`` for s3://, ``gcsfs`` for gs://); a filesystem that lives in
one process (``memory://``) is refused, since the workers are other processes."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path, PurePosixPath

from core.errors import ParameterError, StorageError
from core.imageio import encode_image, save_format

TEMPORARY = re.compile(r"^\..+\.\d+(\.[0-9a-f]{8})?\.tmp$")
"""The names of the temporary files Softcut writes beside a destination (``save_image``'s, :func:`put_atomic`'s
and the manifest's), which :func:`sweep` removes."""
PROCESS_LOCAL = ("memory",)
"""fsspec protocols whose files only the process that wrote them sees."""


def is_url(spec: str) -> bool:
    return "://" in str(spec)


def need_fsspec(spec: str):
    """The fsspec module, or a :class:`ParameterError` that says how to get it."""
    try:
        import fsspec
    except ImportError:
        raise ParameterError(f"{spec}: a URL needs the fsspec package, which is not installed: "
                             "pip install 'softcut[urls]' (plus s3fs for s3://, gcsfs for gs://)") from None
    return fsspec


def open_url(url: str):
    """(filesystem, root path) for fsspec URL ``url``; :class:`ParameterError` for a process-local one or a
    protocol whose package is missing."""
    fsspec = need_fsspec(url)
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise ParameterError(f"{url}: {exc}") from None
    if set(_protocols(fs)) & set(PROCESS_LOCAL):
        raise ParameterError(f"{url}: a {_protocols(fs)[0]}:// filesystem lives in one process, and the batch's "
                             "workers are other processes; use a folder or a shared store")
    return fs, root.rstrip("/") or "/"


def _protocols(fs) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def is_local_fs(fs) -> bool:
    """Whether ``fs`` is fsspec's local filesystem (a ``file://`` URL), whose files can be appended to and locked."""
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def local_path(spec: str) -> Path | None:
    """The local folder ``spec`` names: a path, or a ``file://`` URL's path; None for any other URL."""
    if not is_url(spec):
        return Path(spec)
    if spec.startswith("file://"):
        return Path(spec[len("file://"):])
    return None


def join_url(url: str, relative: str) -> str:
    """``url`` with the POSIX path ``relative`` below it (a chained URL keeps its chain)."""
    return f"{url.rstrip('/')}/{relative}"


def put_atomic(fs, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` on ``fs`` under a temporary name beside it, then move it into place;
    :class:`StorageError` when that fails (the temporary file is removed where it can be)."""
    parent, name = path.rsplit("/", 1) if "/" in path else ("", path)
    tmp = f"{parent}/.{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        if parent:
            fs.makedirs(parent, exist_ok=True)
        with fs.open(tmp, "wb") as f:
            f.write(data)
        fs.mv(tmp, path)
    except Exception as exc:  # each fsspec backend raises its own errors
        try:
            if fs.exists(tmp):
                fs.rm(tmp)
        except Exception:  # noqa: S110 - the write's error is the one to report
            pass
        raise StorageError(f"{fs.unstrip_protocol(path)}: cannot write ({exc})") from exc


class UrlDestination:
    """An output folder given as an fsspec URL, in place of
    :class:`softcut_app.commands.outputs.Destination` (``Writer`` calls ``path_for``, ``format`` and ``write``):
    ``suffix`` names each file after its input's stem (".png", ".alpha.png")."""

    stdout = False
    folder = True

    def __init__(self, url: str, flag: str, suffix: str) -> None:
        self.spec, self.flag, self.suffix = url, flag, suffix
        self.fs, self.root = open_url(url)

    def path_for(self, item) -> str:
        """The filesystem path of ``item``'s output (``item.relative``: its path below SRC)."""
        relative = PurePosixPath(item.relative.as_posix())
        return f"{self.root}/{relative.with_name(relative.stem + self.suffix)}"

    def format(self, target: str) -> str:
        return save_format(target)

    def write(self, target: str, pixels) -> str:
        """Encode ``pixels`` (uint8 (H, W), (H, W, 3) or (H, W, 4)) by ``target``'s suffix and put them there
        atomically; returns the output's URL."""
        put_atomic(self.fs, target, encode_image(pixels, save_format(target)))
        return join_url(self.spec, target[len(self.root):].lstrip("/"))


def destination(spec: str, flag: str, suffix: str):
    """The output folder ``spec`` (a path or URL) as the Writer's destination."""
    if is_url(spec):
        return UrlDestination(spec, flag, suffix)
    from softcut_app.commands.outputs import Destination

    return Destination(spec, flag, suffix, many=True)


def output_exists(output: str) -> bool:
    """Whether the output file ``output`` (a path or URL, as the manifest records it) is there."""
    if not is_url(output):
        return Path(output).is_file()
    fs, path = need_fsspec(output).core.url_to_fs(output)
    return fs.isfile(path)


def check_folder(spec: str, flag: str) -> str:
    """``spec`` as an output folder: a path (resolved) or a URL (checked); :class:`ParameterError` when a file of
    that name is in the way. Returns what the job is to use."""
    if is_url(spec):
        fs, root = open_url(spec)
        if fs.isfile(root):
            raise ParameterError(f"{flag} {spec}: a file of that name exists; {flag} is a folder")
        return spec
    folder = Path(spec).resolve()
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"{flag} {spec}: a file of that name exists; {flag} is a folder")
    return str(folder)


def sweep(spec: str) -> int:
    """Remove the temporary files (:data:`TEMPORARY`) a killed run left below the output folder ``spec`` (a path
    or URL); returns how many. Only while no other run writes there (the manifest's lock)."""
    if is_url(spec):
        fs, root = open_url(spec)
        if not fs.exists(root):
            return 0
        stale = [p for p in fs.find(root) if TEMPORARY.match(p.rsplit("/", 1)[-1])]
        for path in stale:
            fs.rm(path)
        return len(stale)
    count = 0
    for here, _, files in os.walk(spec):
        for name in files:
            if TEMPORARY.match(name):
                try:
                    os.unlink(os.path.join(here, name))
                    count += 1
                except FileNotFoundError:
                    pass
    return count
