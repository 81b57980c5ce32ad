"""softcut_app.client_masking: a client in the engine's environment masks its frames with the installed
websockets package's C code, the same bytes as the vendored pure-Python masking that :mod:`wire` (and so
every editor plug-in) keeps on its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from softcut_app import client_masking
from wire._vendor.websockets import frames
from wire._vendor.websockets.utils import apply_mask as python_mask


@pytest.fixture
def restore_masking():
    before = frames.apply_mask
    yield
    frames.apply_mask = before


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 1023, 1 << 20])
def test_the_c_masking_gives_the_vendored_bytes(length):
    assert client_masking.c_apply_mask is not None, "the websockets package (an engine dependency) has its C extension here"
    data, key = os.urandom(length), os.urandom(4)
    assert client_masking.c_apply_mask(data, key) == python_mask(data, key)


def test_the_vendored_client_masks_in_pure_python_until_told(restore_masking):
    opened = subprocess.run(  # a fresh process: wire and a client connection alone, as in an editor
        [sys.executable, "-c", "import wire.client.connection, wire.client.api; "
         "from wire._vendor.websockets import frames, utils; print(frames.apply_mask is utils.apply_mask)"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    assert opened.stdout.strip() == "True", "wire alone keeps the standard library's masking"
    assert client_masking.use_c_masking() is client_masking.c_apply_mask is frames.apply_mask


def test_without_the_c_extension_the_vendored_masking_stays(monkeypatch, restore_masking):
    monkeypatch.setattr(client_masking, "c_apply_mask", None)
    assert client_masking.use_c_masking() is python_mask is frames.apply_mask
