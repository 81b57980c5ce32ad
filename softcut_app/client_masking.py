"""The C masking of the frames a client sends, for clients that run in the engine's environment.

RFC 6455 has a client XOR every byte it sends with a fresh 4-byte key. The vendored websockets under
:mod:`wire` (``wire/_vendor/websockets``, unmodified, standard library only because the editor
plug-ins vendor it) does that in pure Python, its optional C ``speedups`` extension left out: 0.044 s
for a 12 MB lasso mask, 0.016 s in C. Here, where the websockets package itself is installed (an
engine dependency), :func:`use_c_masking` points the vendored frames at that package's
``speedups.apply_mask``: the same library's C version of the same function, the same bytes. The
CLI's client commands and the benchmarks call it; the editors never import this module.
"""

from __future__ import annotations

from collections.abc import Callable

from wire._vendor.websockets import frames

try:
    from websockets.speedups import apply_mask as c_apply_mask
except ImportError:  # a websockets built without its C extension
    c_apply_mask = None

Masker = Callable[[bytes, bytes], bytes]


def use_c_masking() -> Masker:
    """Make the vendored client mask its frames in C where the installed websockets has it; returns the
    masking the client now uses (the vendored pure-Python one where there is no C extension)."""
    if c_apply_mask is not None:
        frames.apply_mask = c_apply_mask
    return frames.apply_mask
