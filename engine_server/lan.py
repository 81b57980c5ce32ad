"""LAN mode: this machine's address on the local network, the phone's URL and its QR code."""

from __future__ import annotations

import io
import ipaddress
import socket


def lan_address() -> str:
    """This machine's IPv4 address on its local network (the interface of the default route).

    A UDP socket "connected" to a private address sends nothing, but makes the OS pick
    the outgoing interface; 127.0.0.1 when there is no network.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.254.254.254", 9))
            address = probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    return address if not ipaddress.ip_address(address).is_unspecified else "127.0.0.1"


def phone_url(host: str, port: int, token: str) -> str:
    """``http://<host>:<port>/phone#t=<token>`` (IPv6 hosts in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/phone#t={token}"


def qr_png(url: str, *, scale: int = 6) -> tuple[bytes, int]:
    """The URL's QR code as a PNG file (black on white, 4-module quiet zone): (bytes, side in pixels)."""
    import segno

    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    width, _ = code.symbol_size(scale=scale, border=4)
    return out.getvalue(), width


def qr_text(url: str) -> str:
    """The URL's QR code for a terminal: two modules per character (Unicode half blocks), dark on light."""
    import segno

    code = segno.make(url, error="m", micro=False)
    rows = [[bool(v) for v in row] for row in code.matrix_iter(scale=1, border=2)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    glyph = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
    return "\n".join("".join(glyph[top, bottom] for top, bottom in zip(upper, lower))
                     for upper, lower in zip(rows[0::2], rows[1::2]))
