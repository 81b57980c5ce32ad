"""What each kind of token may ask of the engine.

- ``master`` (the token file's token): everything.
- ``editor`` (a pairing code's token: the Photoshop panel, a plug-in): every request of the
  protocol and the answers to engine requests. Token management is not part of the protocol
  at all: ``softcut tokens`` edits the config folder, which only the user's account can write.
- ``phone`` (a phone link's token): only what the phone page sends (``phone_cut``,
  ``phone_paste``, ``status``, ``cancel``). A phone connection is never an editor connection,
  whatever its hello accepts, so it never receives ``place_layer`` or ``canvas_snapshot``.
"""

from __future__ import annotations

from wire.protocol.auth import MASTER_KEY
from wire.protocol.schemas import EDITOR_REPLY_TYPES, PAIRED_SCOPES, REQUEST_TYPES

MASTER = MASTER_KEY
"""The token file's key id is also its scope's name."""
EDITOR, PHONE = PAIRED_SCOPES
_PROTOCOL = frozenset(REQUEST_TYPES) | frozenset(EDITOR_REPLY_TYPES)
"""Every message type a client may send."""

ALLOWED: dict[str, frozenset[str]] = {
    MASTER: _PROTOCOL,
    EDITOR: _PROTOCOL,
    PHONE: frozenset({"phone_cut", "phone_paste", "status", "cancel"}),
}
"""Message types each scope may send once its handshake is done."""
HANDSHAKE_TYPES = frozenset({"hello", "pair", "auth"})
"""Allowed to every scope: after the handshake the dispatcher answers them ``bad_message``."""
EDITOR_SCOPES = frozenset({MASTER, EDITOR})
"""Scopes whose connections may be editor connections (get place_layer, canvas_snapshot)."""


def allows(scope: str | None, message_type: str) -> bool:
    """Whether a connection of ``scope`` may send ``message_type`` (None: not authenticated: nothing).

    A type the protocol does not know is allowed to every scope: the dispatcher answers it
    ``unknown_type``, which says more than ``unauthorized`` would.
    """
    if scope not in ALLOWED:
        return False
    known = message_type in _PROTOCOL
    return not known or message_type in HANDSHAKE_TYPES or message_type in ALLOWED[scope]


def refusal(scope: str, message_type: str) -> str:
    """The ``unauthorized`` message for a request ``scope`` does not allow."""
    return (f"{message_type}: this connection's token has scope {scope!r}, which allows only "
            f"{', '.join(sorted(ALLOWED[scope]))}; pair with the engine's pairing code (or use the token file) "
            f"for more")
