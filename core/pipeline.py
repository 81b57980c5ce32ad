"""Select Subject and friends: the stages, one function each, called in order.

    image ──resize──▶ working image ──model views──▶ coarse mask ──▶ auto-trimap
          ──refine (none | fast | best)──▶ working alpha ──guided upsampling──▶ alpha
          ──edge controls──▶ alpha ──blur fusion──▶ decontaminated foreground

Heavy solvers run at a bounded working resolution; the result is brought back
to the input's size edge-aware (the guided filter's linear model, fitted at the
working size and applied to the full-size image), never by a plain upscale.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from core.alpha.guided_filter import guided_filter, guided_upsample
from core.alpha.info_flow import estimate_alpha_info_flow
from core.edges import EdgeControls, apply_edges
from core.errors import ParameterError
from core.foreground.blur_fusion import decontaminate
from core.trimap.auto import UNKNOWN, auto_trimap, trimap_from_mask
from core.trimap.strands import strand_region
from core.views import CoarseMask, agreement, predict_coarse

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
"""``progress(fraction in [0, 1], stage)``."""

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

_SNAP = np.float32(0.5 / 255.0)

GUIDE_WEIGHT = 0.2
"""Weight of the model's own matte in the ``best`` solver where the model is sure
(see :func:`model_guide`); chosen on ECSSD, alphamatting and Composition-1k together
(0.05–0.5 measured, docs/quality.md)."""

GUIDE_POWER = 2.0
"""How fast the guide's weight falls as the model's value nears 0.5."""

LOW_CONFIDENCE = 0.6
"""Below this coarse-mask confidence a result is flagged ``low_confidence``."""

LOW_AGREEMENT = 0.85
"""Below this agreement (soft IoU) between the refined alpha and the model's matte a result
is flagged ``low_confidence``: the colours and the model disagree about the subject."""

WHOLE_FRAME = 0.85
"""A result covering more than this share of the image is flagged ``low_confidence``:
"the whole picture" is rarely the subject (a crowd, a landscape)."""


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


@dataclass
class Matte:
    """A Select Subject result.

    alpha: (H, W) float32 in [0, 1], at the input's size, edge controls applied.
    foreground: (H, W, 3) float32 in [0, 1], RGB, decontaminated colours (None when
        :func:`refine_stage` was asked for no colours).
    coarse: the model's mask at the working size (with its confidence and views).
    trimap: (h, w) uint8 in {0, 128, 255} at the working size.
    refined: (h, w) float32 in [0, 1], the refined alpha at the working size.
    unedited: (H, W) float32 in [0, 1], the full-size alpha before edge controls
        (what re-adjusting edges starts from, see :func:`finish_edges`).
    timings: seconds per stage.
    strands: (h, w) bool at the working size, where the trimap looked for strands beyond the
        model's matte (:func:`matting_trimap`), or None.
    background: (H, W, 3) float32 in [0, 1] and known: (H, W) bool, the true background
        where it is known (a clean plate, :mod:`core.plate`), which the colours were
        decontaminated against and re-adjusting should use too; None without one.
    """

    alpha: np.ndarray
    foreground: np.ndarray | None
    coarse: CoarseMask
    trimap: np.ndarray
    refined: np.ndarray
    unedited: np.ndarray
    timings: dict[str, float]
    background: np.ndarray | None = None
    known: np.ndarray | None = None
    strands: np.ndarray | None = None

    @property
    def confidence(self) -> float:
        return self.coarse.confidence

    @property
    def low_confidence(self) -> bool:
        """Whether the result is likely wrong (:func:`is_unsure`; calibrated on ECSSD, docs/quality.md)."""
        return is_unsure(self.coarse, self.refined, self.strands)


def is_unsure(coarse: CoarseMask, refined: np.ndarray, strands: np.ndarray | None = None) -> bool:
    """Whether a Select Subject result is likely wrong: the model's views were unsure or
    disagreed (``coarse.confidence < LOW_CONFIDENCE``), the refined alpha ((h, w) float32 in
    [0, 1], at the coarse mask's size) moved far from the model's matte (soft IoU below
    ``LOW_AGREEMENT``) outside ``strands`` ((h, w) bool, where the trimap looked for strands
    the model missed, or None), or it covers nearly the whole image (``WHOLE_FRAME``)."""
    if coarse.confidence < LOW_CONFIDENCE:
        return True
    model = coarse.alpha if coarse.alpha.shape == refined.shape else resize_image(coarse.alpha, refined.shape)
    kept = slice(None) if strands is None or strands.shape != refined.shape else ~strands
    return agreement(refined[kept], model[kept]) < LOW_AGREEMENT or float(np.mean(refined >= 0.5)) > WHOLE_FRAME


def working_size(shape: tuple[int, ...], pixels: int) -> tuple[int, int]:
    """(height, width) no larger than ``shape`` with at most ``pixels`` pixels, aspect kept."""
    h, w = shape[:2]
    scale = min(1.0, (pixels / float(h * w)) ** 0.5)
    return max(1, round(h * scale)), max(1, round(w * scale))


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize (H, W[, C]) float32 in [0, 1] to ``size`` = (height, width).

    Area filter when shrinking, bilinear when growing; the result is clipped to
    [0, 1] (area filtering can overshoot 1.0 by a rounding error).
    """
    if image.shape[:2] == size:
        return image
    shrinking = size[0] < image.shape[0]
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    out = cv2.resize(image, (size[1], size[0]), interpolation=interp)
    return np.clip(out, 0.0, 1.0, out=out)


def refine_alpha(
    image: np.ndarray,
    trimap: np.ndarray,
    coarse: np.ndarray | None,
    *,
    mode: str,
    prior: tuple[np.ndarray, np.ndarray] | None = None,
    guide: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Refine at the working size.

    Parameters
    ----------
    image: (h, w, 3) float32 in [0, 1], RGB.
    trimap: (h, w) uint8, 0 background, 255 foreground, other values unknown.
    coarse: (h, w) float32 in [0, 1], a soft mask to start from (required for
        "none" and "fast"; "best" uses only the trimap).
    mode: "none", "fast" or "best".
    prior: (alpha, weight), each (h, w) float32, an outside alpha estimate for the
        "best" solver (see :func:`core.alpha.info_flow.estimate_alpha_info_flow`).
    guide: (alpha, weight), each (h, w) float32, an estimate added to the solver's own
        priors (:func:`model_guide`).

    Returns
    -------
    alpha: (h, w) float32 in [0, 1]; pixels the trimap marks known are exactly 0 or 1
        (except in mode "none").
    """
    if mode not in REFINE_MODES:
        raise ParameterError(f"mode: expected one of {', '.join(REFINE_MODES)}; got {mode!r}")
    if mode == "best":
        return estimate_alpha_info_flow(image, trimap, prior=prior, guide=guide)
    if coarse is None:
        raise ParameterError(f"coarse: refinement mode {mode!r} needs a soft mask")
    if mode == "none":
        return coarse.astype(np.float32, copy=True)
    radius = max(2, round(4 * (trimap.size / 1e6) ** 0.5))
    alpha = guided_filter(image, coarse.astype(np.float32), radius=radius, eps=1e-3)
    alpha = np.clip(alpha, 0.0, 1.0)
    alpha[trimap == 0] = 0.0
    alpha[trimap == 255] = 1.0
    return alpha


def model_guide(coarse: np.ndarray, weight: float | None = None, power: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The model's soft matte as a confidence-weighted guide for the ``best`` solver.

    coarse: (h, w) float32 in [0, 1], the model's matte at the working size.
    Returns (alpha, weight), each (h, w) float32: the matte itself, weighted
    ``GUIDE_WEIGHT · |2a − 1|^GUIDE_POWER``: strong where the model is sure (near 0 or 1),
    nothing where it hesitates (0.5), so that hair and transparency stay the solver's
    while a hole the colours alone would punch (foreground and background of one
    colour) is held shut by the model.
    """
    weight = GUIDE_WEIGHT if weight is None else weight
    power = GUIDE_POWER if power is None else power
    alpha = coarse.astype(np.float32, copy=False)
    return alpha, (weight * np.abs(2.0 * alpha - 1.0) ** power).astype(np.float32)


def budget_size(trimap: np.ndarray, max_unknown: int) -> tuple[int, int] | None:
    """The (height, width) at which ``trimap`` (h, w) uint8 would have at most ``max_unknown``
    unknown pixels (unknown area scales with pixel count), or None when it already has."""
    unknown = int(np.count_nonzero((trimap > 0) & (trimap < 255)))
    if unknown <= max_unknown:
        return None
    return working_size(trimap.shape, int(trimap.shape[0] * trimap.shape[1] * max_unknown / unknown))


def matting_trimap(
    image: np.ndarray, coarse_alpha: np.ndarray, *, band: float = DEFAULT_BAND, strands: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Select Subject's trimap: the model's band (:func:`core.trimap.auto.auto_trimap`),
    grown where strands can be (:func:`core.trimap.strands.strand_region`).

    image: (h, w, 3) float32 in [0, 1], RGB; coarse_alpha: (h, w) float32 in [0, 1].
    Returns (trimap (h, w) uint8 in {0, 128, 255}, strands (h, w) bool: where strands can be,
    all of them unknown in the trimap).
    """
    trimap = auto_trimap(coarse_alpha, band=band)
    grown = strand_region(image, coarse_alpha, trimap) if strands else np.zeros(trimap.shape, bool)
    trimap[grown] = UNKNOWN
    return trimap, grown


def fit_unknown_budget(
    image: np.ndarray, coarse: CoarseMask, trimap: np.ndarray, max_unknown: int, *, band: float = DEFAULT_BAND,
    strands: bool = False,
) -> tuple[np.ndarray, CoarseMask, np.ndarray, np.ndarray | None]:
    """Shrink the working image, coarse mask and trimap until the trimap has at most
    ``max_unknown`` unknown pixels (unknown area scales with pixel count).

    image: (h, w, 3) float32 [0, 1]; trimap: (h, w) uint8. Returns them at the new size,
    the trimap remade there by :func:`matting_trimap` (``band``, ``strands``), and its
    grown strand pixels ((h, w) bool), or None when nothing had to shrink.
    """
    size = budget_size(trimap, max_unknown)
    if size is None:
        return image, coarse, trimap, None
    alpha = resize_image(coarse.alpha, size)
    small = resize_image(image, size)
    trimap, grown = matting_trimap(small, alpha, band=band, strands=strands)
    return small, dataclasses.replace(coarse, alpha=alpha), trimap, grown


def upsample_alpha(alpha: np.ndarray, image_small: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Bring a working-size alpha to full size, following the full-size image's edges.

    Parameters
    ----------
    alpha: (h, w) float32 in [0, 1].
    image_small: (h, w, 3) float32 in [0, 1], the working image ``alpha`` belongs to.
    image: (H, W, 3) float32 in [0, 1], the full-size image.

    Returns
    -------
    alpha: (H, W) float32 in [0, 1].
    """
    if alpha.shape == image.shape[:2]:
        return alpha
    # radius 1 at the working size and a small ridge restore the most detail
    # (bench/eval_upsampling.py: SAD 1.53 against bilinear's 4.56 at 4×).
    up = guided_upsample(alpha, image_small, image, radius=1, eps=1e-5)
    np.clip(up, 0.0, 1.0, out=up)
    # Values that round to 0 or 255 in 8 bits become exactly 0 or 1, so that
    # later stages (decontamination) treat them as solid, as the trimap did.
    up[up < _SNAP] = 0.0
    up[up > 1.0 - _SNAP] = 1.0
    return up


class Stopwatch:
    """Stage timings, reported to a progress callback as each stage ends."""

    def __init__(self, progress: Progress | None, timings: dict[str, float] | None = None) -> None:
        self.report = progress or (lambda fraction, stage: None)
        self.timings = {} if timings is None else timings
        self.clock = time.perf_counter()

    def lap(self, name: str, fraction: float) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.clock
        self.clock = now
        self.report(fraction, name)


@dataclass
class Coarse:
    """The model stage's output, input to :func:`refine_stage`.

    small: (h, w, 3) float32 in [0, 1], RGB, the working image.
    coarse: the model's mask at the working size.
    timings: seconds per stage so far.
    """

    small: np.ndarray
    coarse: CoarseMask
    timings: dict[str, float]


def model_stage(
    image: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    options: MatteOptions = MatteOptions(),
    *,
    progress: Progress | None = None,
) -> Coarse:
    """First half of Select Subject: the working image and the model's views.

    image: (H, W, 3) float32 in [0, 1], RGB. ``predict`` as in :func:`select_subject`.
    """
    _check_image(image)
    watch = Stopwatch(progress)
    small = resize_image(image, working_size(image.shape, options.pixels))
    watch.lap("resize", 0.05)
    coarse = predict_coarse(small, predict)
    watch.lap("model", 0.55)
    return Coarse(small, coarse, watch.timings)


def refine_stage(
    image: np.ndarray, stage: Coarse, options: MatteOptions = MatteOptions(), *, progress: Progress | None = None,
    colours: bool = True,
) -> Matte:
    """Second half of Select Subject: trimap, refinement, upsampling, edges, colours.

    image: (H, W, 3) float32 in [0, 1], RGB, the image ``stage`` was computed from.
    colours: False skips decontamination (the Matte's ``foreground`` is None), for callers
    that want only the alpha: the same alpha, without the colours' full-size buffers.
    """
    watch = Stopwatch(progress, dict(stage.timings))
    small, coarse = stage.small, stage.coarse
    best = options.refine == "best"
    trimap, grown = matting_trimap(small, coarse.alpha, band=options.band, strands=best)
    guide = None
    if best:
        small, coarse, trimap, shrunk = fit_unknown_budget(
            small, coarse, trimap, options.max_unknown, band=options.band, strands=True
        )
        grown = grown if shrunk is None else shrunk
        guide = model_guide(coarse.alpha)
        guide[1][grown] = 0.0  # the model is no judge of strands (it missed them)
    watch.lap("trimap", 0.6)
    refined = refine_alpha(small, trimap, coarse.alpha, mode=options.refine, guide=guide)
    watch.lap("refine", 0.8)
    unedited = upsample_alpha(refined, small, image)
    watch.lap("upsample", 0.85)
    if colours:
        alpha, foreground = finish_edges(image, unedited, options.edges, options.decontaminate, progress=watch.lap)
    else:
        alpha, foreground = (unedited if options.edges.is_identity else apply_edges(unedited, options.edges)), None
        watch.lap("edges", 1.0)
    return Matte(alpha, foreground, coarse, trimap, refined, unedited, watch.timings, strands=grown)


def finish_edges(
    image: np.ndarray,
    unedited: np.ndarray,
    edges: EdgeControls,
    amount: float,
    *,
    progress: Callable[[str, float], None] | None = None,
    background: np.ndarray | None = None,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Edge controls and decontamination on a full-size matte (also what re-adjusting
    an earlier result runs, without the model or the solver).

    image: (H, W, 3) float32 in [0, 1], RGB; unedited: (H, W) float32 in [0, 1], the
    matte before edge controls; background (H, W, 3) float32 in [0, 1] and known (H, W)
    bool: the true background where a clean plate gives it (see
    :func:`core.foreground.blur_fusion.decontaminate`).
    Returns (alpha (H, W), foreground (H, W, 3)), float32 in [0, 1].
    """
    lap = progress or (lambda name, fraction: None)
    alpha = unedited if edges.is_identity else apply_edges(unedited, edges)
    lap("edges", 0.88)
    foreground = decontaminate(image, alpha, amount=amount, background=background, known=known)
    lap("foreground", 1.0)
    return alpha, foreground


def select_subject(
    image: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    options: MatteOptions = MatteOptions(),
    *,
    progress: Progress | None = None,
) -> Matte:
    """One click: the salient subject's soft matte and clean foreground colours.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    predict: a model's ``predict`` (RGB float32 [0, 1] → (h, w) float32 [0, 1] mask),
        e.g. :meth:`core.models.session.MaskSession.predict`.
    options: refinement, edge controls and decontamination.
    progress: called with (fraction, stage) as stages finish.

    Returns
    -------
    :class:`Matte` with full-size alpha and foreground.
    """
    stage = model_stage(image, predict, options, progress=progress)
    return refine_stage(image, stage, options, progress=progress)


def refine_with_trimap(
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    mode: str = DEFAULT_REFINE,
    working_pixels: int | None = None,
) -> np.ndarray:
    """Alpha from a user's trimap.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    trimap: (H, W) uint8, 0 background, 255 foreground, anything else unknown.
    mode: "fast" or "best": information-flow matting at a working size of
        ``TRIMAP_WORKING_PIXELS[mode]`` (0.1 or 0.6 MP), brought back to full size
        by guided upsampling.
    working_pixels: override of that working size.

    Returns
    -------
    alpha: (H, W) float32 in [0, 1]; known pixels keep their trimap value.
    """
    _check_image(image)
    if trimap.shape != image.shape[:2] or trimap.dtype != np.uint8:
        raise ParameterError(f"trimap: expected uint8 {image.shape[:2]}; got {trimap.dtype} {trimap.shape}")
    if mode not in ("fast", "best"):
        raise ParameterError(f"mode: trimap refinement is 'fast' or 'best'; got {mode!r}")
    size = working_size(image.shape, working_pixels or TRIMAP_WORKING_PIXELS[mode])
    small = resize_image(image, size)
    small_trimap = cv2.resize(trimap, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
    refined = estimate_alpha_info_flow(small, small_trimap)
    alpha = upsample_alpha(refined, small, image)
    alpha[trimap == 0] = 0.0
    alpha[trimap == 255] = 1.0
    return alpha


def refine_mask(image: np.ndarray, mask: np.ndarray, *, mode: str = DEFAULT_REFINE) -> tuple[np.ndarray, np.ndarray]:
    """Alpha from a user's rough selection (hard or soft).

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    mask: (H, W) float32 in [0, 1], the rough selection.

    Returns
    -------
    (alpha (H, W) float32 in [0, 1], trimap (H, W) uint8 in {0, 128, 255}).
    """
    _check_image(image)
    if mask.shape != image.shape[:2]:
        raise ParameterError(f"mask: expected shape {image.shape[:2]}; got {mask.shape}")
    if mode not in ("fast", "best"):
        raise ParameterError(f"mode: mask refinement is 'fast' or 'best'; got {mode!r}")
    trimap = mask_trimap(mask, pixels=WORKING_PIXELS[mode])
    return refine_with_trimap(image, trimap, mode=mode), trimap


def subject_trimap(
    image: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    *,
    pixels: int = WORKING_PIXELS[DEFAULT_REFINE],
    band: float = DEFAULT_BAND,
) -> tuple[np.ndarray, CoarseMask]:
    """The automatic trimap Select Subject would use, at the image's size.

    image: (H, W, 3) float32 in [0, 1], RGB. Returns (trimap (H, W) uint8 in
    {0, 128, 255}, the coarse mask at the working size).
    """
    _check_image(image)
    small = resize_image(image, working_size(image.shape, pixels))
    coarse = predict_coarse(small, predict)
    trimap, _ = matting_trimap(small, coarse.alpha, band=band)
    trimap = cv2.resize(trimap, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
    return trimap, coarse


def mask_trimap(mask: np.ndarray, *, pixels: int = WORKING_PIXELS[DEFAULT_REFINE]) -> np.ndarray:
    """Trimap around a rough selection, its band drawn at a working size of ``pixels``
    so that the band's width follows the image's scale.

    mask: (H, W) float32 in [0, 1]. Returns (H, W) uint8 in {0, 128, 255}.
    """
    size = working_size(mask.shape, pixels)
    small = trimap_from_mask(resize_image(mask.astype(np.float32), size))
    return cv2.resize(small, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_NEAREST)


def _check_image(image: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.float32:
        raise ParameterError(f"image: expected (H, W, 3) float32 in [0, 1]; got {image.dtype} {image.shape}")
