"""The C masking of the frames the client sends, where the Python it runs in has it.

RFC 6455 has a client XOR every byte it sends with a fresh 4-byte key. The vendored websockets
(``wire/_vendor/websockets``, unmodified) does that with its optional C ``speedups`` extension when
present and in pure Python otherwise; the vendored copy leaves the extension out, so the pure
Python runs: 0.04 s for a 12 MB lasso mask, most of what a lasso through the engine adds over core.
Where the websockets package itself is installed (the engine's environment: the CLI, the batch
runner, scripts and benchmarks), :func:`install` points the vendored frames at that package's
``speedups.apply_mask``: the same library's C version of the same function, the same bytes. In the
editors' Pythons the package is absent and nothing changes: the client needs the standard library
only, and the extension is an optional speed-up as it is for websockets itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from .._vendor.websockets import frames
from .._vendor.websockets.utils import apply_mask as python_mask

Masker = Callable[[bytes, bytes], bytes]


def c_mask() -> Masker | None:
    """The installed websockets package's C ``apply_mask``, or None where it is not installed."""
    try:
        return importlib.import_module("websockets.speedups").apply_mask
    except ImportError:
        return None


def install() -> Masker:
    """Make the vendored frames mask with the C masking where it is at hand; returns the masking used."""
    chosen = c_mask() or python_mask
    frames.apply_mask = chosen
    return chosen


__all__ = ["c_mask", "install", "python_mask"]
