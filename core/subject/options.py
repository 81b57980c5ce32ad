"""What Select Subject should produce: :class:`MatteOptions`, the refinement modes and their working
sizes, the unknown budget and the automatic trimap's band."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.edges import EdgeControls
from core.errors import ParameterError

REFINE_MODES = ("none", "fast", "best")
DEFAULT_REFINE = "best"

WORKING_PIXELS = {"none": 1_000_000, "fast": 1_000_000, "best": 600_000}
"""Pixels at which each refinement mode works before upsampling to full size."""

TRIMAP_WORKING_PIXELS = {"fast": 100_000, "best": 600_000}
"""Working sizes of trimap refinement: the same solver, solved smaller for ``fast``
(trimap1 SAD 3.42 in 0.3 s against 3.18 in 1.9 s, docs/quality.md)."""

MAX_UNKNOWN = 100_000
"""The ``best`` solver's budget of unknown pixels: a trimap with more is solved
at a proportionally smaller size (solver time grows with the unknown count)."""

DEFAULT_BAND = 0.015
"""Automatic trimap band half-width, as a fraction of √(H·W) (10 px at 0.44 MP)."""


@dataclass(frozen=True)
class MatteOptions:
    """What Select Subject should produce.

    refine: "none" (model output), "fast" (guided filter) or "best" (matting solver).
    edges: Select-and-Mask edge controls, applied at full resolution.
    decontaminate: 0–1, how much the foreground colours are cleaned of the
        background's (0 keeps the image's colours).
    working_pixels: override of the working resolution (None: per-mode default).
    max_unknown: ``best`` solves at most this many unknown pixels (the working size
        shrinks to fit), which bounds its time.
    band: half-width of the automatic trimap's unknown band, as a fraction of
        √(H·W) (see :func:`core.trimap.auto.auto_trimap`); widen it for hair and fur.
    """

    refine: str = DEFAULT_REFINE
    edges: EdgeControls = field(default_factory=EdgeControls)
    decontaminate: float = 1.0
    working_pixels: int | None = None
    max_unknown: int = MAX_UNKNOWN
    band: float = DEFAULT_BAND

    def __post_init__(self) -> None:
        if self.refine not in REFINE_MODES:
            raise ParameterError(f"refine: expected one of {', '.join(REFINE_MODES)}; got {self.refine!r}")
        if not 0.0 <= self.decontaminate <= 1.0:
            raise ParameterError(f"decontaminate: expected a value in [0, 1]; got {self.decontaminate}")
        if not 0.0 <= self.band <= 0.5:
            raise ParameterError(f"band: expected a fraction in [0, 0.5]; got {self.band}")
        if self.working_pixels is not None and self.working_pixels < 4096:
            raise ParameterError(f"working_pixels: expected at least 4096; got {self.working_pixels}")

    @property
    def pixels(self) -> int:
        return self.working_pixels or WORKING_PIXELS[self.refine]
