"""`softcut install-plugin krita` and the plug-in's pure byte conversions."""

from __future__ import annotations

import sys
from pathlib import Path

from engine_server.cli import main
from engine_server.plugin_install import enable_krita_plugin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "krita"))
from softcut_krita import pixels  # noqa: E402  (outside Krita the package registers nothing)


def test_install_copies_plugin_and_client_and_keeps_kritarc(tmp_path):
    rc = tmp_path / "kritarc"
    rc.write_text("[General]\nLanguage=de\n\n[python]\nenable_other=true\n")
    assert main(["install-plugin", "krita", "--resource-dir", str(tmp_path / "krita"), "--config-file", str(rc)]) == 0
    package = tmp_path / "krita" / "pykrita" / "softcut_krita"
    for name in ("__init__.py", "document.py", "config.py", "client/api.py", "protocol/messages.py"):
        assert (package / name).is_file(), name
    assert (tmp_path / "krita" / "pykrita" / "softcut_krita.desktop").is_file()
    text = rc.read_text()
    assert "Language=de" in text and "enable_other=true" in text and "enable_softcut_krita=true" in text
    # a second install replaces the first
    assert main(["install-plugin", "krita", "--resource-dir", str(tmp_path / "krita"), "--config-file", str(rc)]) == 0
    enable_krita_plugin(rc, "softcut_krita")
    assert rc.read_text().count("enable_softcut_krita") == 1


def test_pixel_layouts():
    assert pixels.swap_red_blue(bytes([1, 2, 3, 4, 5, 6, 7, 8])) == bytes([3, 2, 1, 4, 7, 6, 5, 8])
    assert pixels.bgra_with_alpha(bytes([1, 2, 3]), bytes([9])) == bytes([3, 2, 1, 9])
    assert pixels.bgra_with_alpha(bytes([1, 2, 3])) == bytes([3, 2, 1, 255])
    assert pixels.clip_rect(-5, 3, 20, 20, 10, 10) == (0, 3, 10, 7)
    assert pixels.clip_rect(20, 20, 5, 5, 10, 10)[2:] == (0, 0)
