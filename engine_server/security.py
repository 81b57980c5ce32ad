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

import collections
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable

from wire.protocol.schemas import PAIRING_CODE_DIGITS

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


class OneTimeSecret:
    """A secret the engine shows the user, valid ``lifetime_s`` and for one :meth:`redeem`.

    A fresh secret (from ``draw()``) replaces it after a successful redeem and once it
    has expired (noticed when one is offered or when :attr:`current` is read: the
    server reads it every second, so expiry is announced on time); ``on_new(secret)``
    is called with each replacement (``softcut serve`` prints it). Wrong offers never
    replace it: an attacker's guesses must not take the user's code away (guessing is
    bounded by :class:`PairingLimiter` instead). The first secret is not announced:
    read :attr:`current`.

    Parameters
    ----------
    draw: makes a new random secret.
    lifetime_s: seconds a secret stays valid.
    on_new: called with every replacement.
    clock: monotonic seconds (tests inject their own).
    """

    def __init__(
        self,
        draw: Callable[[], str],
        *,
        lifetime_s: float = 600.0,
        on_new: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if lifetime_s <= 0:
            raise ValueError(f"lifetime_s: expected > 0; got {lifetime_s}")
        self._draw = draw
        self.lifetime_s = lifetime_s
        self.on_new = on_new
        self._clock = clock
        self._secret, self._expires = draw(), clock() + lifetime_s

    @property
    def current(self) -> str:
        """The secret to show now (a fresh one, announced, once the last has expired)."""
        now = self._clock()
        if now >= self._expires:
            self._replace(now)
        return self._secret

    def _replace(self, now: float) -> None:
        self._secret, self._expires = self._draw(), now + self.lifetime_s
        if self.on_new is not None:
            self.on_new(self._secret)

    def redeem(self, offered: object, now: float | None = None) -> bool:
        """Whether ``offered`` is the current, unexpired secret (compared in constant time).

        True: it matched and is replaced by a new one. False: it was wrong (the secret
        stays) or the current secret had expired (replaced now).
        """
        now = self._clock() if now is None else now
        if now >= self._expires:
            self._replace(now)
            return False
        given = offered.encode("utf-8", "surrogatepass") if isinstance(offered, str) else b""
        if hmac.compare_digest(given, self._secret.encode()):
            self._replace(now)
            return True
        return False


def peer_key(address: str | None) -> str:
    """Whose tries a pairing attempt counts against: ``"loopback"`` for this machine, the
    IPv4 address, or the /64 network of an IPv6 address (one host holds a whole /64).

    ``address``: the peer's IP address as the socket gives it (``"192.168.1.7"``,
    ``"::ffff:10.0.0.2"``, ``"fe80::1%eth0"``); None or unparsable: ``"unknown"``.
    """
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class PairingLimiter:
    """Which pairing-code tries the engine checks at all: a bound on guessing a short code.

    Per peer (:func:`peer_key`): its first ``free_failures`` wrong codes cost nothing (a
    typo); after its n-th wrong code beyond those it waits ``first_delay_s · 2^(n-1)``
    seconds (at most ``max_delay_s``) before another of its tries is checked, and after
    ``lockout_after`` wrong codes in all it is locked out for ``lockout_s``. Across all peers but this machine's own (a LAN attacker may hold many
    addresses): at most ``remote_budget`` wrong codes are checked in any ``window_s``.
    A try that is not checked is refused without looking at the code, so it tells the
    attacker nothing and costs the user nothing: the code stays, and this machine's own
    clients (the Photoshop panel pairs over loopback) keep their own allowance.

    With the defaults, at most ``lockout_after`` (8) + ``remote_budget`` (64) = 72 wrong
    codes are checked within one code's 600 s lifetime, so a 6-digit code is guessed
    with probability at most 72 / 10^6 = 7.2·10^-5 (docs/security.md has the arithmetic).
    """

    def __init__(
        self,
        *,
        free_failures: int = 2,
        first_delay_s: float = 1.0,
        max_delay_s: float = 60.0,
        lockout_after: int = 8,
        lockout_s: float = 900.0,
        remote_budget: int = 64,
        window_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.lockout_after = lockout_after
        self.lockout_s = lockout_s
        self.remote_budget = remote_budget
        self.window_s = window_s
        self._clock = clock
        self._peers: dict[str, tuple[int, float]] = {}
        """peer → (wrong codes so far, when its next try may be checked)."""
        self._remote: collections.deque[float] = collections.deque()
        """When the remote peers' recent wrong codes were checked (within ``window_s``)."""
        self._next_prune = 0.0
        """Peers are only checked in wrong codes, so at most ``max_checked()`` per window stay known."""

    def max_checked(self) -> int:
        """The most wrong codes checked within one ``window_s`` (the guessing bound)."""
        return self.lockout_after + self.remote_budget

    def wait_s(self, peer: str) -> float:
        """0 when ``peer``'s try may be checked now, else the seconds until one may."""
        now = self._clock()
        self._forget(now)
        failures, allowed = self._peers.get(peer, (0, now))
        if failures >= self.lockout_after and allowed <= now:  # a lockout served: start again
            del self._peers[peer]
        wait = max(0.0, allowed - now)
        if peer != "loopback" and len(self._remote) >= self.remote_budget:
            wait = max(wait, self._remote[0] + self.window_s - now)
        return wait

    def failed(self, peer: str) -> None:
        """A checked try of ``peer`` was wrong."""
        now = self._clock()
        failures = self._peers.get(peer, (0, now))[0] + 1
        if failures >= self.lockout_after:
            delay = self.lockout_s
        elif failures <= self.free_failures:
            delay = 0.0
        else:
            delay = min(self.max_delay_s, self.first_delay_s * 2 ** (failures - self.free_failures - 1))
        self._peers[peer] = (failures, now + delay)
        if peer != "loopback":
            self._remote.append(now)

    def succeeded(self, peer: str) -> None:
        """A checked try of ``peer`` was right: its count starts again."""
        self._peers.pop(peer, None)

    def _forget(self, now: float) -> None:
        while self._remote and self._remote[0] + self.window_s <= now:
            self._remote.popleft()
        if now < self._next_prune:
            return
        self._next_prune = now + 1.0
        for peer, (failures, allowed) in list(self._peers.items()):
            if failures >= self.lockout_after and allowed <= now:  # a lockout served: start again
                del self._peers[peer]
            elif allowed + self.lockout_s <= now:  # quiet for long: forgotten
                del self._peers[peer]


class PairingCodes(OneTimeSecret):
    """The pairing code ``softcut serve`` prints: 6 random digits, valid 10 minutes and for one use.

    A client that cannot read the token file (the Photoshop panel) sends the code the
    user read off the console and gets a credential back (``pair``). Guessing is bounded
    by the server's :class:`PairingLimiter`.
    """

    DIGITS = PAIRING_CODE_DIGITS

    def __init__(self, *, lifetime_s: float = 600.0, on_new: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(self._digits, lifetime_s=lifetime_s, on_new=on_new, clock=clock)

    def _digits(self) -> str:
        return "".join(secrets.choice("0123456789") for _ in range(self.DIGITS))


class PhoneLinks(OneTimeSecret):
    """The one-time token of the phone's pairing URL (``softcut serve --lan``): 128 random bits,
    URL-safe; no failure limit (128 bits cannot be guessed)."""

    BYTES = 16

    def __init__(self, *, lifetime_s: float = 600.0, on_new: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(lambda: secrets.token_urlsafe(self.BYTES), lifetime_s=lifetime_s, on_new=on_new, clock=clock)
