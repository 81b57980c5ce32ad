"""The Krita plug-in's pure byte conversions that test_plugin_install.py does not cover (no Krita needed)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "krita"))
from softcut_krita import pixels  # noqa: E402  (outside Krita the package registers nothing)

from engine_server.client.editor import split_rgba  # noqa: E402  (vendored into the plug-in)


def test_a_segment_splits_into_colours_and_alpha_that_krita_joins_back():
    rgb, alpha = split_rgba(bytes([1, 2, 3, 4, 5, 6, 7, 8]))
    assert pixels.bgra_with_alpha(rgb, alpha) == pixels.swap_red_blue(bytes([1, 2, 3, 4, 5, 6, 7, 8]))
