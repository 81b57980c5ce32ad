"""Where the engine keeps its per-user settings, and the pairing token.

Standard library only: the blocking client (which editor plug-ins carry) reads
the token through this module too.

Everything under :func:`config_dir` is private to the user: folders 0700, files
0600, and files are replaced atomically (:func:`write_private`), so a reader
never sees half a file and a crash or a full disk never leaves an empty one.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import stat
import sys
from pathlib import Path

from .protocol.schemas import DEFAULT_PORT

DEFAULT_HOST = "127.0.0.1"
__all__ = [
    "DEFAULT_HOST", "DEFAULT_PORT", "ConfigError", "TokenFileError", "config_dir", "load_or_create_token", "make_private_dir",
    "new_token", "read_token", "secure_config_dir", "tighten_modes", "token_path", "write_private",
]

log = logging.getLogger(__name__)

TOKEN_FILE = "token"
NEW_TOKEN_COMMAND = "softcut serve --new-token"
"""The command that replaces a bad or leaked token file (named in every token file error)."""
MAX_TOKEN_BYTES = 4096
"""A token file longer than this is not a token file (a token is 43 characters)."""
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_POSIX = os.name == "posix"


class ConfigError(Exception):
    """The config folder or a file in it cannot be used; the message names it and what to do."""


class TokenFileError(ConfigError):
    """The token file exists but cannot be used (empty, unreadable, not text, not a file), or
    cannot be written; the message names the file and what to do."""


def config_dir() -> Path:
    """``$SOFTCUT_CONFIG``, else the platform's per-user config folder for Softcut."""
    env = os.environ.get("SOFTCUT_CONFIG")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "softcut"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "softcut"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "softcut"


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


# ── private files ────────────────────────────────────────────────────────────


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` (and its parents) if needed; the folder itself ends up mode 0700."""
    folder = Path(folder)
    folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if _POSIX and stat.S_IMODE(folder.stat().st_mode) & 0o077:
        tighten_modes(folder, recursive=False)


def _fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    if not _POSIX:
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # file systems that do not sync folders
            raise
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes) -> Path:
    """``data`` in a new mode-0600 file beside ``path``, written and fsynced; returns its name.

    The name is ``.<name>.<pid>.<random>.tmp``; on any error the file is removed and the error raised.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), PRIVATE_FILE_MODE)
    try:
        try:
            if _POSIX:
                os.fchmod(fd, PRIVATE_FILE_MODE)  # whatever the umask
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path``'s content with ``data`` atomically and durably, readable by the user only.

    A mode-0600 temporary file in the same folder is written and fsynced, renamed over
    ``path`` (``os.replace``) and the folder fsynced; the folder is created mode 0700 if
    missing. Readers see the old file or the new one, never a part. Raises OSError (ENOSPC,
    EIO, EROFS…) with nothing left behind but the old file.
    """
    path = Path(path)
    make_private_dir(path.parent)
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _create_private(path: Path, data: bytes) -> bool:
    """Like :func:`write_private`, but only if ``path`` does not exist yet; False if it did."""
    path = Path(path)
    make_private_dir(path.parent)
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path)  # atomic, and never replaces
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system: a rename (which could replace) it is
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def tighten_modes(path: Path, *, recursive: bool = True) -> list[str]:
    """Take group and other permissions off ``path`` and, for a folder and ``recursive``, off
    every folder and file in it.

    Symbolic links are left alone (neither changed nor followed). Returns one line per change,
    e.g. "/home/u/.config/softcut/outbox: mode 0755 → 0700 (other users could read it)", each
    also logged as a warning. A no-op outside POSIX.
    """
    path = Path(path)
    if not _POSIX:
        return []
    paths = [path]
    if recursive and path.is_dir() and not path.is_symlink():
        paths += [Path(root) / name for root, dirs, files in os.walk(path) for name in dirs + files]
    return [line for line in map(_tighten_one, paths) if line is not None]


def _tighten_one(path: Path) -> str | None:
    """Clear ``path``'s group and other permission bits; the change as a line, or None (no change,
    a link, gone)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode) or not mode & 0o077:
        return None
    os.chmod(path, mode & ~0o077)
    line = f"{path}: mode {mode:04o} → {mode & ~0o077:04o} (other users could read it)"
    log.warning("tightened %s", line)
    return line


PRIVATE_ENTRIES = (TOKEN_FILE, "tokens.json", "outbox")
"""What Softcut keeps in the config folder, tightened at start (the outbox with all it holds).
Nothing else in the folder is touched: ``$SOFTCUT_CONFIG`` may name a folder shared with other things."""


def secure_config_dir() -> list[str]:
    """Create the config folder (0700) if needed and tighten it and Softcut's files in it
    (:data:`PRIVATE_ENTRIES` and leftover temporary files: folders 0700, files 0600); returns
    the changes made (see :func:`tighten_modes`). Raises ConfigError."""
    folder = config_dir()
    try:
        folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        changes = tighten_modes(folder, recursive=False)
        temporaries = [p for name in PRIVATE_ENTRIES for p in folder.glob(f".{name}.*.tmp")]
        for path in [*(folder / name for name in PRIVATE_ENTRIES), *temporaries]:
            changes += tighten_modes(path)
        return changes
    except OSError as exc:
        raise ConfigError(f"cannot set up the config folder {folder}: {exc.strerror or exc}") from None


# ── the token ────────────────────────────────────────────────────────────────


def _token_error(path: Path, problem: str) -> TokenFileError:
    return TokenFileError(f"the pairing token file {path} {problem}; make a new one with `{NEW_TOKEN_COMMAND}` "
                          f"(clients then need the new token: pair again)")


def _read_token_bytes(path: Path) -> bytes | None:
    """The token file's bytes (at most MAX_TOKEN_BYTES + 1), or None when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise _token_error(path, "is a folder, not a file") from None
    except PermissionError:
        if path.is_dir():  # Windows cannot open folders
            raise _token_error(path, "is a folder, not a file") from None
        raise _token_error(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise _token_error(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise _token_error(path, "is a folder, not a file")
        if not stat.S_ISREG(kind):
            raise _token_error(path, "is not a regular file")
        return os.read(fd, MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        raise _token_error(path, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _parse_token(path: Path, data: bytes) -> str:
    """The token in a token file's ``data``; raises TokenFileError naming what is wrong."""
    if len(data) > MAX_TOKEN_BYTES:
        raise _token_error(path, f"is longer than {MAX_TOKEN_BYTES} bytes (a token is one short line)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _token_error(path, "is not text (binary, or not UTF-8)") from None
    token = text.strip()
    if not token:
        raise _token_error(path, "is empty")
    if not (token.isascii() and token.isprintable()) or any(c.isspace() for c in token):
        raise _token_error(path, "holds characters a token never has (non-printable, non-ASCII or spaces)")
    return token


def read_token() -> str | None:
    """The pairing token, or None when the engine has never been started for this user (no file).

    Raises TokenFileError when the file exists but is no token file (empty, unreadable, binary,
    a folder…): the message names the file and the command that makes a new one.
    """
    path = token_path()
    data = _read_token_bytes(path)
    return None if data is None else _parse_token(path, data)


def _write_token_error(path: Path, exc: OSError) -> TokenFileError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full (no space left on device)"
    else:
        why = exc.strerror or str(exc)
    return TokenFileError(f"cannot write the pairing token file {path}: {why}; free some space or fix the folder, "
                          f"then start the engine again")


def load_or_create_token() -> str:
    """The pairing token, created on first use: 32 random bytes, url-safe, in a mode-0600 file.

    Raises TokenFileError for a bad token file or when it cannot be written (a full disk leaves no file).
    """
    existing = read_token()
    if existing is not None:
        return existing
    path = token_path()
    token = secrets.token_urlsafe(32)
    try:
        created = _create_private(path, (token + "\n").encode())
    except OSError as exc:
        raise _write_token_error(path, exc) from None
    if not created:  # another engine created it first, or the name is taken by a dangling link
        existing = read_token()
        if existing is None:
            raise _token_error(path, "is a symbolic link to a missing file")
        return existing
    return token


def new_token() -> str:
    """Replace the token file with a new random token (atomically) and return it; clients
    holding the old one must read or pair again. Raises TokenFileError when it cannot be written."""
    path = token_path()
    token = secrets.token_urlsafe(32)
    try:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()  # a folder named token, found by read_token: replaced when empty
        write_private(path, (token + "\n").encode())
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.EISDIR):
            raise TokenFileError(f"{path} is a folder with files in it, not a token file: move it away, then run "
                                 f"`{NEW_TOKEN_COMMAND}` again") from None
        raise _write_token_error(path, exc) from None
    return token
