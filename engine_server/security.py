"""Who may talk to the engine: the WebSocket Origin check, the pairing token, pairing codes.

Any web page a user visits can open ws://127.0.0.1:PORT; browsers always send
an ``Origin`` header, native clients (editor plug-ins, the Python client) do not.
So connections whose Origin is a web page are refused at the handshake unless
allow-listed (cross-site WebSocket hijacking protection), and every client must
then present the token from the user's config folder in ``hello``. A client that
cannot read that file (a Photoshop UXP panel) trades the short pairing code
``softcut serve`` prints for the token first (:class:`PairingCodes`).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable

UXP_ORIGIN_PREFIX = "uxp://"
"""Origins of Adobe UXP plug-ins (Photoshop panels); no browser can send such an Origin."""


def origin_allowed(origin: str | None, allowed: frozenset[str] = frozenset()) -> bool:
    """True for connections without an Origin (native clients), from a UXP panel, or allow-listed.

    ``origin``: the handshake's Origin header value, or None when absent.
    ``allowed``: further exact origins to accept, e.g. ``{"https://phone.example"}``.

    UXP panels may send an Origin with the ``uxp:`` scheme. A browser sets the
    Origin itself, always to the page's own http(s) (or ``null``) origin, and a
    page cannot change it, so a ``uxp://`` Origin never comes from a web page:
    accepting it opens nothing to the cross-site attack the check exists for.
    Such a client still needs the token (or a pairing code) like any other.
    """
    if origin is None:
        return True
    origin = origin.strip()
    return origin.startswith(UXP_ORIGIN_PREFIX) or origin in allowed


def same_origin_ip_page(origin: str | None, host: str | None) -> bool:
    """True when ``origin`` is exactly ``http://`` + ``host`` and the Host header's host part is an
    IP address literal: the phone page, which the engine serves itself (``GET /phone``).

    ``host``: the handshake's Host header, e.g. ``192.168.1.20:47841`` or ``[fe80::1]:47841``.
    A Host that is a name is refused even when it matches: a hostile page on a name that
    resolves to this machine (DNS rebinding) would match too, an IP literal it cannot be.
    """
    if not origin or not host or origin.strip() != f"http://{host}":
        return False
    if host.startswith("["):
        literal = host[1:host.find("]")] if "]" in host else ""
    else:
        literal = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        ipaddress.ip_address(literal)
    except ValueError:
        return False
    return True


def token_matches(offered: object, expected: str) -> bool:
    """Constant-time comparison of the token a client offered with ours."""
    # surrogatepass: a JSON string may hold lone surrogates ("\ud800"), which strict UTF-8 refuses
    return isinstance(offered, str) and hmac.compare_digest(offered.encode("utf-8", "surrogatepass"), expected.encode())


class PairingCodes:
    """The engine's current pairing code: 6 random digits, valid ``lifetime_s``, single use.

    A client that cannot read the token file sends the code the user read off
    ``softcut serve``'s console and gets the token back. The code is replaced by a
    new one after a successful :meth:`redeem`, once it has expired (checked when a
    code is offered), and after ``max_failures`` wrong offers (so guessing gets at
    most that many tries per code); ``on_new(code)`` is called with each new code
    (``softcut serve`` prints it). The first code is not announced through
    ``on_new``: read :attr:`current`.

    Parameters
    ----------
    lifetime_s: seconds a code stays valid.
    max_failures: wrong offers after which the code is replaced.
    on_new: called with every replacement code.
    clock: monotonic seconds (tests inject their own).
    """

    DIGITS = 6

    def __init__(
        self,
        *,
        lifetime_s: float = 600.0,
        max_failures: int = 5,
        on_new: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if lifetime_s <= 0 or max_failures < 1:
            raise ValueError(f"lifetime_s and max_failures: expected > 0; got {lifetime_s}, {max_failures}")
        self.lifetime_s = lifetime_s
        self.max_failures = max_failures
        self.on_new = on_new
        self._clock = clock
        self._code, self._expires, self._failures = self._draw(clock())

    @property
    def current(self) -> str:
        """The code to show the user now."""
        return self._code

    def _draw(self, now: float) -> tuple[str, float, int]:
        code = "".join(secrets.choice("0123456789") for _ in range(self.DIGITS))
        return code, now + self.lifetime_s, 0

    def _replace(self, now: float) -> None:
        self._code, self._expires, self._failures = self._draw(now)
        if self.on_new is not None:
            self.on_new(self._code)

    def redeem(self, code: object, now: float | None = None) -> bool:
        """Whether ``code`` is the current, unexpired code (compared in constant time).

        True: the code matched and is replaced by a new one. False: it was wrong
        (counted; the code is replaced at ``max_failures``) or the current code had
        expired (replaced now).
        """
        now = self._clock() if now is None else now
        if now >= self._expires:
            self._replace(now)
            return False
        offered = code.encode("utf-8", "surrogatepass") if isinstance(code, str) else b""
        if hmac.compare_digest(offered, self._code.encode()):
            self._replace(now)
            return True
        self._failures += 1
        if self._failures >= self.max_failures:
            self._replace(now)
        return False


class PhoneLinks:
    """The one-time token of the phone's pairing URL (``softcut serve --lan``).

    128 random bits, URL-safe; valid ``lifetime_s`` and for one :meth:`redeem`. A fresh
    token replaces it after a successful redeem and when :attr:`current` finds it expired;
    ``on_new(token)`` is called with each replacement (``softcut serve`` prints the new URL).
    No failure limit: 128 bits cannot be guessed.

    Parameters
    ----------
    lifetime_s: seconds a token stays valid.
    on_new: called with every replacement token.
    clock: monotonic seconds (tests inject their own).
    """

    BYTES = 16

    def __init__(
        self,
        *,
        lifetime_s: float = 600.0,
        on_new: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if lifetime_s <= 0:
            raise ValueError(f"lifetime_s: expected > 0; got {lifetime_s}")
        self.lifetime_s = lifetime_s
        self.on_new = on_new
        self._clock = clock
        self._token = secrets.token_urlsafe(self.BYTES)
        self._expires = clock() + lifetime_s

    @property
    def current(self) -> str:
        """The token to put in the URL now (a fresh one, announced, once the last has expired)."""
        now = self._clock()
        if now >= self._expires:
            self._replace(now)
        return self._token

    def _replace(self, now: float) -> None:
        self._token = secrets.token_urlsafe(self.BYTES)
        self._expires = now + self.lifetime_s
        if self.on_new is not None:
            self.on_new(self._token)

    def redeem(self, token: object) -> bool:
        """Whether ``token`` is the current, unexpired token (constant time); True replaces it."""
        now = self._clock()
        if now >= self._expires:
            self._replace(now)
            return False
        offered = token.encode("utf-8", "surrogatepass") if isinstance(token, str) else b""
        if hmac.compare_digest(offered, self._token.encode()):
            self._replace(now)
            return True
        return False
