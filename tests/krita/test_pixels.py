"""The Krita plug-in's pure byte conversions that test_plugin_install.py does not cover (no Krita needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "krita"))
from softcut_krita import pixels  # noqa: E402  (outside Krita the package registers nothing)

from wire.editor import split_rgba  # noqa: E402  (vendored into the plug-in)


def test_a_segment_splits_into_colours_and_alpha_that_krita_joins_back():
    rgb, alpha = split_rgba(bytes([1, 2, 3, 4, 5, 6, 7, 8]))
    assert pixels.bgra_with_alpha(rgb, alpha) == pixels.swap_red_blue(bytes([1, 2, 3, 4, 5, 6, 7, 8]))


def test_packed_rows_drop_qts_row_padding():
    padded = bytes([1, 2, 3, 0, 4, 5, 6, 0])  # two rows of one rgb8 pixel, each padded to 4 bytes
    assert pixels.packed_rows(padded, 4, 3, 2) == bytes([1, 2, 3, 4, 5, 6])
    assert pixels.packed_rows(bytes(range(6)), 3, 3, 2) == bytes(range(6))
    with pytest.raises(ValueError, match="data"):
        pixels.packed_rows(bytes(6), 4, 3, 2)
