"""The scoped, revocable tokens ``pair`` hands out, kept in ``<config dir>/tokens.json``.

A token is an id (what ``hello.key`` names; not secret), a 256-bit secret (never sent: the
handshake proves it by HMAC), a scope (``editor`` or ``phone``, see :mod:`engine_server.scopes`),
the client name it was made for, and when it was made and last used. The client keeps
``"<id>.<secret>"`` (:func:`wire.protocol.auth.credential`).

The file is JSON, mode 0600 in a 0700 folder, rewritten atomically
(:func:`wire.config.write_private`). The engine and ``softcut tokens revoke`` both
write it: every change re-reads the file under a lock first, and the engine re-reads it when
it has changed on disk (:meth:`TokenStore.refresh`), so a revoke takes effect without a
restart.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from wire import config
from wire.protocol.auth import MASTER_KEY
from wire.protocol.schemas import PAIRED_SCOPES as SCOPES


TOKENS_FILE = "tokens.json"
SECRET_BYTES = 32
TOUCH_INTERVAL_S = 60.0
"""``last_used`` is written at most this often per token (a hello is not worth a file write)."""
FORMAT_VERSION = 1


class TokenFileError(Exception):
    """``tokens.json`` cannot be read or is not a token list; the message names the file and the fix."""


@dataclass(frozen=True)
class Token:
    """One scoped token.

    id: ``t`` + 16 hex digits. secret: 43 URL-safe characters (256 bits). scope: "editor" or
    "phone". client: the client name it was paired for. created, last_used: Unix seconds
    (last_used None: never said hello with it).
    """

    id: str
    secret: str = field(repr=False)
    scope: str
    client: str
    created: float
    last_used: float | None = None


def tokens_path() -> Path:
    """``<config dir>/tokens.json``."""
    return config.config_dir() / TOKENS_FILE


class TokenStore:
    """The tokens of one config folder.

    Parameters
    ----------
    path: the JSON file (default ``<config dir>/tokens.json``); created on the first :meth:`issue`.
    clock: Unix seconds (tests inject their own).
    """

    def __init__(self, path: Path | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path) if path is not None else tokens_path()
        self._clock = clock
        self._tokens: dict[str, Token] = {}
        self._stamp: tuple[int, ...] | None = None
        self._loaded = False  # read lazily: a broken file is reported where it is used, not at start

    # ── reading ───────────────────────────────────────────────────────────────

    def _file_stamp(self) -> tuple[int, ...] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenFileError(f"{self.path}: cannot read it ({exc.strerror or exc})") from None
        return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns

    def refresh(self) -> bool:
        """Re-read the file if it changed on disk since it was last read; True when it did.

        Raises
        ------
        TokenFileError
            The file cannot be read or is not a token list (the message says what to do).
        """
        stamp = self._file_stamp()
        if self._loaded and stamp == self._stamp:
            return False
        self._tokens = self._read()
        self._stamp, self._loaded = stamp, True
        return True

    def _read(self) -> dict[str, Token]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenFileError(f"{self.path}: cannot read it ({exc}); delete it to forget every paired "
                                 f"client (they pair again)") from None
        try:
            data = json.loads(text)
            tokens = {}
            for entry in data["tokens"]:
                token = Token(**entry)
                if token.scope not in SCOPES or not token.id or token.id == MASTER_KEY or not token.secret:
                    raise ValueError(f"token {token.id!r}: bad scope, id or secret")
                tokens[token.id] = token
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenFileError(f"{self.path}: not a Softcut token list ({exc}); delete it to forget every "
                                 f"paired client (they pair again)") from None
        return tokens

    def get(self, key: str) -> Token | None:
        """The token with id ``key`` as the file says now (re-read when changed), or None."""
        self.refresh()
        return self._tokens.get(key)

    def list(self) -> list[Token]:
        """Every token, oldest first."""
        self.refresh()
        return sorted(self._tokens.values(), key=lambda t: t.created)

    def ids(self) -> frozenset[str]:
        """The ids of the tokens that exist (as of the last :meth:`refresh`)."""
        return frozenset(self._tokens)

    # ── writing ───────────────────────────────────────────────────────────────

    @contextmanager
    def _changing(self) -> Iterator[dict[str, Token]]:
        """Under an exclusive lock (POSIX), the tokens as the file has them now; written back after."""
        config.make_private_dir(self.path.parent)
        with _locked(self.path.with_name(self.path.name + ".lock")):
            tokens = self._read()
            yield tokens
            data = {"version": FORMAT_VERSION, "tokens": [asdict(t) for t in tokens.values()]}
            config.write_private(self.path, (json.dumps(data, indent=1) + "\n").encode())
            self._tokens = dict(tokens)
            self._stamp, self._loaded = self._file_stamp(), True

    def issue(self, scope: str, client: str) -> Token:
        """Make, store and return a new token of ``scope`` ("editor" or "phone") for ``client``."""
        if scope not in SCOPES:
            raise ValueError(f"scope: expected one of {', '.join(SCOPES)}; got {scope!r}")
        token = Token(id=f"t{secrets.token_hex(8)}", secret=secrets.token_urlsafe(SECRET_BYTES), scope=scope,
                      client=client[:128], created=round(self._clock(), 3))
        with self._changing() as tokens:
            tokens[token.id] = token
        return token

    def touch(self, key: str) -> None:
        """Record that ``key`` was just used (written at most every :data:`TOUCH_INTERVAL_S`)."""
        now = self._clock()
        known = self._tokens.get(key)
        if known is None or (known.last_used is not None and now - known.last_used < TOUCH_INTERVAL_S):
            return
        with self._changing() as tokens:
            if key in tokens:  # not revoked meanwhile
                tokens[key] = replace(tokens[key], last_used=round(now, 3))

    def revoke(self, key: str) -> bool:
        """Delete token ``key``; False when there is none."""
        with self._changing() as tokens:
            return tokens.pop(key, None) is not None

    def revoke_all(self) -> int:
        """Delete every token; returns how many there were."""
        with self._changing() as tokens:
            count = len(tokens)
            tokens.clear()
        return count


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (fcntl; on Windows no lock: the rename is still atomic)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
