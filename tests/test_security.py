"""The Origin check and the pairing codes, without a server (the clock is injected)."""

from __future__ import annotations

import re

import pytest

from engine_server import security
from engine_server.security import PairingCodes, origin_allowed


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingDigits:
    """Stands in for ``secrets`` in the module: codes come out 111111, 222222, ... (never repeating by chance)."""

    def __init__(self) -> None:
        self.calls = 0

    def choice(self, digits: str) -> str:
        self.calls += 1
        return digits[((self.calls - 1) // 6 + 1) % 10]


@pytest.fixture
def codes(monkeypatch):
    monkeypatch.setattr(security, "secrets", CountingDigits())

    def make(**kw) -> tuple[PairingCodes, Clock, list[str]]:
        clock, announced = Clock(), []
        return PairingCodes(on_new=announced.append, clock=clock, **kw), clock, announced

    return make


def test_origins_browsers_cannot_send_are_allowed_web_pages_are_not():
    assert origin_allowed(None)
    assert origin_allowed("uxp://com.softcut.photoshop") and origin_allowed(" uxp://anything ")
    assert not origin_allowed("https://evil.example")
    assert not origin_allowed("null")
    assert not origin_allowed("http://uxp://x")  # the scheme must be uxp itself
    assert not origin_allowed("uxp:")
    assert origin_allowed("https://phone.example", frozenset({"https://phone.example"}))


def test_codes_are_six_random_digits():
    drawn = {PairingCodes().current for _ in range(20)}
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in drawn)
    assert len(drawn) > 1


def test_a_code_works_once_and_its_successor_is_announced(codes):
    pairing, _, announced = codes()
    assert pairing.current == "111111" and announced == []  # the first code is read, not announced
    assert pairing.redeem("111111")
    assert announced == ["222222"] == [pairing.current]
    assert not pairing.redeem("111111")  # used


def test_an_expired_code_is_refused_and_replaced_when_offered(codes):
    pairing, clock, announced = codes(lifetime_s=600)
    clock.now += 599.9
    assert pairing.current == "111111" and announced == []  # expiry is only looked at when a code comes
    clock.now += 0.1
    assert not pairing.redeem("111111")
    assert announced == ["222222"]
    assert pairing.redeem("222222", now=clock.now + 599)  # a new lifetime from its own creation
    assert not pairing.redeem("333333", now=clock.now + 1200)


def test_wrong_codes_never_replace_the_users_code(codes):
    pairing, _, announced = codes()
    for guess in range(1000):
        assert not pairing.redeem(f"{guess:06d}" if guess != 111111 else "999999")
    assert pairing.current == "111111" and announced == []
    assert pairing.redeem("111111") and announced == ["222222"]


def test_expiry_is_announced_when_the_code_is_read(codes):
    pairing, clock, announced = codes(lifetime_s=600)
    clock.now += 600
    assert pairing.current == "222222" and announced == ["222222"]  # the server reads it every second
    assert pairing.current == "222222" and announced == ["222222"]  # once


def _limiter(**kw):
    clock = Clock()
    return security.PairingLimiter(clock=clock, **kw), clock


def test_a_peers_delay_grows_with_its_wrong_codes_then_it_is_locked_out():
    limiter, clock = _limiter()
    waits = []
    for _ in range(limiter.lockout_after):
        assert limiter.wait_s("10.0.0.9") == 0
        limiter.failed("10.0.0.9")
        waits.append(limiter.wait_s("10.0.0.9"))
        clock.now += waits[-1]
    assert waits[:7] == [0, 0, 1, 2, 4, 8, 16] and waits[7] == limiter.lockout_s
    assert limiter.wait_s("10.0.0.10") == 0  # another peer is not held back
    assert limiter.wait_s("loopback") == 0
    clock.now += 0.1
    assert limiter.wait_s("10.0.0.9") == 0  # the lockout is served: it starts again
    for _ in range(3):
        limiter.failed("10.0.0.9")
    assert limiter.wait_s("10.0.0.9") == 1


def test_a_typo_costs_nothing_and_success_clears_a_peers_count():
    limiter, clock = _limiter()
    limiter.failed("loopback")
    assert limiter.wait_s("loopback") == 0  # a typo: the right code may follow at once
    limiter.failed("loopback")
    limiter.failed("loopback")
    assert limiter.wait_s("loopback") == 1
    limiter.succeeded("loopback")
    assert limiter.wait_s("loopback") == 0
    for _ in range(3):
        limiter.failed("loopback")
    assert limiter.wait_s("loopback") == 1


def test_remote_peers_share_one_budget_and_this_machine_keeps_its_own():
    limiter, clock = _limiter(remote_budget=5, window_s=600)
    for i in range(5):
        limiter.failed(f"10.0.1.{i}")  # five addresses, one attacker
    assert limiter.wait_s("10.0.1.200") == pytest.approx(600)  # a fresh address waits for the window
    assert limiter.wait_s("loopback") == 0
    clock.now += 300
    limiter.failed("loopback")
    clock.now += 300
    assert limiter.wait_s("10.0.1.200") == 0


def test_guessing_bound_over_one_code_lifetime():
    """Simulated best attack: every peer tries the moment it may, from one address or from
    thousands, for one code lifetime; the checked wrong codes stay within max_checked()."""
    for peers in (1, 10, 300):
        limiter, clock = _limiter()
        checked, end = 0, clock.now + 600
        while clock.now < end:
            for p in range(peers):
                for peer in (f"10.{p // 65536}.{p // 256 % 256}.{p % 256}", "loopback"):
                    if limiter.wait_s(peer) == 0:
                        limiter.failed(peer)
                        checked += 1
            clock.now += 0.5
        assert min(peers, 8) + 8 <= checked <= limiter.max_checked() == 72
        assert checked / 10**6 <= 1e-4


@pytest.mark.parametrize("address, key", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("192.168.1.7", "192.168.1.7"), ("::ffff:10.0.0.2", "10.0.0.2"),
    ("2001:db8::1", "2001:db8::/64"), ("2001:db8::ffff:1", "2001:db8::/64"), ("fe80::1%eth0", "fe80::/64"),
    (None, "unknown"), ("nonsense", "unknown"),
])
def test_peer_keys(address, key):
    assert security.peer_key(address) == key


@pytest.mark.parametrize("offered", [None, 123456, "", "\ud800\ud800\ud800"])
def test_non_codes_are_just_wrong(codes, offered):
    pairing, _, _ = codes()
    assert not pairing.redeem(offered)


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        PairingCodes(lifetime_s=0)


# ---------------------------------------------------------------- the phone page and its one-time links


@pytest.mark.parametrize("origin, host, allowed", [
    ("http://192.168.1.20:47841", "192.168.1.20:47841", True),
    ("http://[fe80::1]:47841", "[fe80::1]:47841", True),
    ("http://127.0.0.1", "127.0.0.1", True),
    ("http://phone.example:47841", "phone.example:47841", False),  # a name: DNS rebinding
    ("http://localhost:47841", "localhost:47841", False),
    ("http://192.168.1.21:47841", "192.168.1.20:47841", False),
    ("https://192.168.1.20:47841", "192.168.1.20:47841", False),
    ("http://192.168.1.20:47841", None, False),
    (None, "192.168.1.20:47841", False),
    ("http://[fe80::1:47841", "[fe80::1:47841", False),
])
def test_the_phone_pages_own_origin(origin, host, allowed):
    assert security.same_origin_ip_page(origin, host) is allowed


def test_a_phone_link_token_works_once_and_expires():
    now = [0.0]
    announced = []
    links = security.PhoneLinks(lifetime_s=600, on_new=announced.append, clock=lambda: now[0])
    first = links.current
    assert len(first) == 22 and re.fullmatch(r"[A-Za-z0-9_-]+", first)
    assert not links.redeem("A" * 22) and links.current == first  # a wrong token changes nothing
    assert links.redeem(first) and announced == [links.current] and links.current != first
    assert not links.redeem(first)
    second = links.current
    now[0] = 600.0
    assert not links.redeem(second)  # expired: refused and replaced
    assert announced[-1] == links.current != second
    now[0] = 1300.0
    third = links.current  # expiry noticed when the URL is shown
    assert announced[-1] == third and links.redeem(third)
