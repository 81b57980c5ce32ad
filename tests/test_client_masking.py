"""wire.client.masking: where the websockets package is installed the client masks its frames with
that package's C code, the same bytes as the vendored pure-Python masking; where it is absent (the
editors' Pythons) the vendored masking stays."""

from __future__ import annotations

import os
import sys

import pytest

from wire.client import masking
from wire._vendor.websockets import frames


@pytest.fixture
def restore_masking():
    before = frames.apply_mask
    yield
    frames.apply_mask = before


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 1023, 1 << 20])
def test_the_c_masking_gives_the_vendored_bytes(length):
    masker = masking.c_mask()
    assert masker is not None, "the websockets package (an engine dependency) is installed here"
    data, key = os.urandom(length), os.urandom(4)
    assert masker(data, key) == masking.python_mask(data, key)
    assert masker(masker(data, key), key) == data


def test_the_vendored_frames_mask_in_c_where_websockets_is_installed(restore_masking):
    assert masking.install() is masking.c_mask() is frames.apply_mask


def test_without_the_package_the_vendored_masking_stays(monkeypatch, restore_masking):
    monkeypatch.setitem(sys.modules, "websockets.speedups", None)  # an import of it raises ImportError
    assert masking.c_mask() is None
    assert masking.install() is masking.python_mask is frames.apply_mask
