"""Who may talk to the engine: the pairing token and the WebSocket Origin check.

Any web page a user visits can open ws://127.0.0.1:PORT; browsers always send
an ``Origin`` header, native clients (editor plug-ins, the Python client) do not.
So connections whose Origin is a web page are refused at the handshake unless
allow-listed (cross-site WebSocket hijacking protection), and every client must
then present the token from the user's config folder in ``hello``.
"""

from __future__ import annotations

import hmac


def origin_allowed(origin: str | None, allowed: frozenset[str] = frozenset()) -> bool:
    """True for connections without an Origin (native clients) or with an allow-listed one.

    ``origin``: the handshake's Origin header value, or None when absent.
    ``allowed``: exact origins to accept, e.g. ``{"uxp://com.softcut.panel"}``.
    """
    if origin is None:
        return True
    return origin.strip() in allowed


def token_matches(offered: object, expected: str) -> bool:
    """Constant-time comparison of the token a client offered with ours."""
    # surrogatepass: a JSON string may hold lone surrogates ("\ud800"), which strict UTF-8 refuses
    return isinstance(offered, str) and hmac.compare_digest(offered.encode("utf-8", "surrogatepass"), expected.encode())
