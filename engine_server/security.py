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

from engine_server.protocol.schemas import PAIRING_CODE_DIGITS

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


class OneTimeSecret:
    """A secret the engine shows the user, valid ``lifetime_s`` and for one :meth:`redeem`.

    A fresh secret (from ``draw()``) replaces it after a successful redeem, once it has
    expired (noticed when one is offered or when :attr:`current` is read), and after
    ``max_failures`` wrong offers when that is set (for short secrets that could be
    guessed); ``on_new(secret)`` is called with each replacement (``softcut serve``
    prints it). The first secret is not announced: read :attr:`current`.

    Parameters
    ----------
    draw: makes a new random secret.
    lifetime_s: seconds a secret stays valid.
    max_failures: wrong offers after which the secret is replaced; None: no limit.
    on_new: called with every replacement.
    clock: monotonic seconds (tests inject their own).
    """

    def __init__(
        self,
        draw: Callable[[], str],
        *,
        lifetime_s: float = 600.0,
        max_failures: int | None = None,
        on_new: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if lifetime_s <= 0 or (max_failures is not None and max_failures < 1):
            raise ValueError(f"lifetime_s and max_failures: expected > 0; got {lifetime_s}, {max_failures}")
        self._draw = draw
        self.lifetime_s = lifetime_s
        self.max_failures = max_failures
        self.on_new = on_new
        self._clock = clock
        self._secret, self._expires, self._failures = draw(), clock() + lifetime_s, 0

    @property
    def current(self) -> str:
        """The secret to show now (a fresh one, announced, once the last has expired)."""
        now = self._clock()
        if now >= self._expires:
            self._replace(now)
        return self._secret

    def _replace(self, now: float) -> None:
        self._secret, self._expires, self._failures = self._draw(), now + self.lifetime_s, 0
        if self.on_new is not None:
            self.on_new(self._secret)

    def redeem(self, offered: object, now: float | None = None) -> bool:
        """Whether ``offered`` is the current, unexpired secret (compared in constant time).

        True: it matched and is replaced by a new one. False: it was wrong (counted
        towards ``max_failures``) or the current secret had expired (replaced now).
        """
        now = self._clock() if now is None else now
        if now >= self._expires:
            self._replace(now)
            return False
        given = offered.encode("utf-8", "surrogatepass") if isinstance(offered, str) else b""
        if hmac.compare_digest(given, self._secret.encode()):
            self._replace(now)
            return True
        self._failures += 1
        if self.max_failures is not None and self._failures >= self.max_failures:
            self._replace(now)
        return False


class PairingCodes(OneTimeSecret):
    """The pairing code ``softcut serve`` prints: 6 random digits, replaced after 5 wrong tries.

    A client that cannot read the token file (the Photoshop panel) sends the code the
    user read off the console and gets the token back (``pair``).
    """

    DIGITS = PAIRING_CODE_DIGITS

    def __init__(self, *, lifetime_s: float = 600.0, max_failures: int = 5,
                 on_new: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(self._digits, lifetime_s=lifetime_s, max_failures=max_failures, on_new=on_new, clock=clock)

    def _digits(self) -> str:
        return "".join(secrets.choice("0123456789") for _ in range(self.DIGITS))


class PhoneLinks(OneTimeSecret):
    """The one-time token of the phone's pairing URL (``softcut serve --lan``): 128 random bits,
    URL-safe; no failure limit (128 bits cannot be guessed)."""

    BYTES = 16

    def __init__(self, *, lifetime_s: float = 600.0, on_new: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(lambda: secrets.token_urlsafe(self.BYTES), lifetime_s=lifetime_s, on_new=on_new, clock=clock)
