"""Where the engine keeps its per-user settings, and the pairing token.

Standard library only: the blocking client (which editor plug-ins carry) reads
the token through this module too.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from .protocol.schemas import DEFAULT_PORT

DEFAULT_HOST = "127.0.0.1"
__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "config_dir", "load_or_create_token", "read_token", "token_path"]

TOKEN_FILE = "token"


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


def read_token() -> str | None:
    """The pairing token, or None when the engine has never been started for this user."""
    try:
        return token_path().read_text().strip() or None
    except OSError:
        return None


def load_or_create_token() -> str:
    """The pairing token, created on first use: 32 random bytes, url-safe, file mode 0600."""
    existing = read_token()
    if existing:
        return existing
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another engine created it first
        return read_token() or load_or_create_token()
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token
