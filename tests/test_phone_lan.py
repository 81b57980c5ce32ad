"""The phone over the LAN on a real engine (in this process, loopback, the tiny model): phone links
and pairing with their one-time token, the phone page and the panel's client over HTTP, the page's own
origin, ``softcut serve --lan``'s printed URL and QR code."""

from __future__ import annotations

import http.client
import re
import time
from pathlib import Path

import pytest
from phone_support import TOKEN, PhoneEngine, eventually, phone_engine

from engine_server.phone import http as phone_http
from testing.launcher import EngineProcess
from testing.raw_websocket import HandshakeError, RawWebSocket
from wire.client import EngineError, SoftcutClient
from wire.protocol import codec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def engine(tiny_model, tmp_path):
    yield from phone_engine(tiny_model, tmp_path)


def test_phone_link_needs_lan_mode(engine):
    with engine.phone() as phone, pytest.raises(EngineError, match="not_found: LAN mode is off"):
        phone.phone_link()


def test_phone_link_and_pairing_with_its_one_time_token(tiny_model, tmp_path):
    server = PhoneEngine(tiny_model, tmp_path / "outbox", lan=True)
    try:
        with server.phone() as panel:
            link = panel.phone_link()
        url = link.fields["url"]
        prefix = f"http://127.0.0.1:{server.port}/phone#t="
        assert url.startswith(prefix) and link.buffers["qr"][:8] == codec.PNG_SIGNATURE
        assert link.specs["qr"].width == link.specs["qr"].height > 100
        token = url[len(prefix):]
        phone = SoftcutClient(port=server.port, timeout=30, name="softcut-phone")
        credential = phone.pair(token)
        assert TOKEN not in credential and phone.scope == "phone"  # a phone-scoped token, never the master
        assert phone.status()["clients"] == 1
        phone.close()
        assert server.links.current != token  # single use: a fresh one replaces it
        with pytest.raises(EngineError, match="unauthorized"):
            SoftcutClient(port=server.port, timeout=30).pair(token)
    finally:
        server.stop()


def test_a_url_token_without_lan_mode_is_unauthorized(engine):
    with pytest.raises(EngineError, match="unauthorized: LAN mode is off"):
        SoftcutClient(port=engine.port, timeout=30).pair("A" * 22)


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_the_phone_page_and_the_panel_client_are_served_over_http(engine):
    page = phone_http.PAGE_DIR / "index.html"
    for path in ("/phone", "/phone/", "/phone?x=1"):
        status, kind, body = _get(engine.port, path)
        assert (status, kind, body) == (200, "text/html; charset=utf-8", page.read_bytes())
    # The page loads its own scripts in order; modules.js loads every file of wire/js, the panel's.
    scripts = re.findall(r'<script src="/phone/([^"]+)" defer></script>', page.read_text())
    assert tuple(scripts) == phone_http.PAGE_SCRIPTS
    for name in phone_http.SHARED_JS:
        status, kind, body = _get(engine.port, f"/phone/{name}")
        assert status == 200 and kind.startswith("text/javascript"), name
        assert body == (ROOT / "plugins" / "photoshop_uxp" / "src" / name).read_bytes()
    for name in phone_http.PAGE_FILES:
        status, kind, body = _get(engine.port, f"/phone/{name}")
        assert status == 200 and body == (phone_http.PAGE_DIR / name).read_bytes(), name
    for path in ("/", "/phone/missing.js", "/phone/../engine_server/server.py", "/phone/.hidden", "/phonex", "/token",
                 "/phone/http.py", "/phone/__init__.py"):
        assert _get(engine.port, path)[0] == 404, path


def test_the_phone_pages_own_origin_is_accepted_for_an_ip_host_only(engine):
    RawWebSocket.connect("127.0.0.1", engine.port, origin=f"http://127.0.0.1:{engine.port}", timeout=10).close()
    for host, origin in (("localhost", f"http://localhost:{engine.port}"),
                         ("127.0.0.1", f"http://127.0.0.1:{engine.port + 1}"),
                         ("127.0.0.1", f"https://127.0.0.1:{engine.port}")):
        with pytest.raises(HandshakeError) as refused:
            RawWebSocket.connect(host, engine.port, origin=origin, timeout=10)
        assert refused.value.status_code == 403, origin


def test_softcut_serve_lan_prints_the_phone_url_and_a_qr_code(tmp_path, tiny_model):
    server = EngineProcess(tmp_path / "config", tiny_model, "--device", "cpu", "--lan", home=tmp_path / "home", timeout=60)
    try:
        deadline = time.monotonic() + 30
        while not any("phone: http://" in line for line in server.log):
            assert time.monotonic() < deadline, server.log
            time.sleep(0.05)
        (line,) = [line for line in server.log if "phone: http://" in line]
        assert f":{server.port}/phone#t=" in line
        eventually(lambda: any("█" in line for line in server.log), "the QR code")
    finally:
        server.stop()
