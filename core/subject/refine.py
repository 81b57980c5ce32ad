"""The refine stage, Select Subject's second half: trimap, refinement at the working size (the
``best`` solver guided by the model's matte), upsampling, edges, colours (:func:`refine_stage`)."""

from __future__ import annotations

import numpy as np

from core.alpha.guided_filter import guided_filter
from core.alpha.info_flow import estimate_alpha_info_flow
from core.alpha.reproject import reproject_alpha
from core.edges import apply_edges
from core.errors import ParameterError
from core.subject.coarse import Coarse
from core.subject.colours import colours_overlap
from core.subject.finish import finish_edges
from core.subject.options import REFINE_MODES, MatteOptions
from core.subject.result import Matte
from core.subject.stopwatch import Progress, Stopwatch
from core.subject.trimap import fit_unknown_budget, matting_trimap, sure_foreground
from core.subject.working import upsample_alpha

GUIDE_WEIGHT = 0.3
"""Weight of the model's own matte in the ``best`` solver where the model is sure
(see :func:`model_guide`), in a photo whose subject and background colours are told apart
(:func:`guide_weight`); chosen on two sets of 125 ECSSD photos, alphamatting and Composition-1k
together (0.02–1.0 measured, docs/quality.md)."""

GUIDE_WEIGHT_OVERLAP = 1.0
"""The guide's weight in a photo whose subject and background share their colours
(:func:`core.subject.colours.colours_overlap`): there colour cannot separate them, and the model
should decide."""

REPROJECT = True
"""Whether ``best`` re-reads the solver's soft alpha from the estimated colours
(:mod:`core.alpha.reproject`): on the README's sample SAD 10.41 → 9.62, alphamatting 15.95 → 15.87,
Composition-1k 36.64 → 36.63, ECSSD MAE 0.0354 → 0.0349 (docs/quality.md)."""

SOFT = 0.01
"""Re-reading changes only unknown pixels the solver left soft (alpha in (SOFT, 1 − SOFT))."""

GUIDE_POWER = 2.0
"""How fast the guide's weight falls as the model's value nears 0.5."""


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


def guide_weight(overlap: bool) -> float:
    """The guide's weight for a photo: :data:`GUIDE_WEIGHT_OVERLAP` when the colours of the model's
    subject and of its background overlap (:func:`core.subject.colours.colours_overlap`), else
    :data:`GUIDE_WEIGHT`."""
    return GUIDE_WEIGHT_OVERLAP if overlap else GUIDE_WEIGHT


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
    overlap = best and colours_overlap(small, coarse.alpha)
    sure = sure_foreground(overlap)
    trimap, grown = matting_trimap(small, coarse.alpha, band=options.band, strands=best, sure=sure)
    guide = None
    if best:
        small, coarse, trimap, shrunk = fit_unknown_budget(
            small, coarse, trimap, options.max_unknown, band=options.band, strands=True, sure=sure
        )
        grown = grown if shrunk is None else shrunk
        guide = model_guide(coarse.alpha, guide_weight(overlap))
        guide[1][grown] = 0.0  # the model is no judge of strands (it missed them)
    watch.lap("trimap", 0.6)
    refined = refine_alpha(small, trimap, coarse.alpha, mode=options.refine, guide=guide)
    if best and REPROJECT:
        soft = (refined > SOFT) & (refined < 1.0 - SOFT) & (trimap != 0) & (trimap != 255)
        refined = reproject_alpha(small, refined, soft)
    watch.lap("refine", 0.8)
    unedited = upsample_alpha(refined, small, image)
    watch.lap("upsample", 0.85)
    if colours:
        alpha, foreground = finish_edges(image, unedited, options.edges, options.decontaminate, progress=watch.lap)
    else:
        alpha, foreground = (unedited if options.edges.is_identity else apply_edges(unedited, options.edges)), None
        watch.lap("edges", 1.0)
    return Matte(alpha, foreground, coarse, trimap, refined, unedited, watch.timings, strands=grown)
