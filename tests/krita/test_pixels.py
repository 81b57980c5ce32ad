"""The Krita plug-in's pure byte conversions that test_plugin_install.py does not cover (no Krita needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "krita"))
from softcut_krita import pixels  # noqa: E402  (outside Krita the package registers nothing)


def test_split_rgba_gives_the_colours_and_the_alpha():
    rgb, alpha = pixels.split_rgba(bytes([1, 2, 3, 4, 5, 6, 7, 8]))
    assert rgb == bytes([1, 2, 3, 5, 6, 7]) and alpha == bytes([4, 8])
    assert pixels.bgra_with_alpha(rgb, alpha) == pixels.swap_red_blue(bytes([1, 2, 3, 4, 5, 6, 7, 8]))


def test_split_rgba_refuses_a_partial_pixel():
    with pytest.raises(ValueError, match="rgba"):
        pixels.split_rgba(bytes(6))
