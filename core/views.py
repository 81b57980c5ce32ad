"""Coarse subject mask from a few model views, combined by the model's own certainty.

A saliency model such as IS-Net is unstable on some photographs: a subject that
touches the frame, or a scene with no obvious subject, can make it return a
grey, half-hearted matte or nothing at all, while the same image seen with a
border around it, or mirrored, comes out crisp. So the coarse stage looks at
the image through a short, ordered list of *views* (the plain image, a mirrored
copy, a copy framed in grey), stopping as soon as one is convincing:

1. Run the first view. If its certainty reaches ``confident``, use it: one model run.
2. Otherwise run the next view, and so on, up to ``max_runs`` runs. A view marked
   ``for_frame`` (the grey frame) runs only when the best matte so far touches the
   image's frame or is empty: on ECSSD a border around a subject that does not touch
   the frame made the model choose something else more often than it helped
   (measured on alphamatting, Composition-1k and ECSSD together: 1.8 runs on
   average, the order plain → mirror → framed, docs/quality.md).
3. Return the most certain view's matte. (A certainty-weighted mean of the views
   was measured too, and was worse after refinement: see :func:`combine_views`.)

Certainty of one matte ``a`` (see :func:`matte_certainty`), in [0, 1]:

    certainty = (1 - soft / (soft + solid)) * frame_factor * area_factor

where ``solid`` counts pixels with ``a >= 0.5`` and ``soft`` pixels with
``0.1 < a < 0.9``. A confident segmentation is nearly binary: its soft pixels
are a thin edge compared with its body, while a hesitant model paints wide
half-grey regions. ``frame_factor`` guards against "the whole picture" answers:
it is 1 while the subject covers at most 90 % of the image's outer frame and
falls linearly to 0 when it covers all of it (an all-foreground matte has
certainty 0); ``area_factor`` does the same for the share of the whole image the
subject covers (1 up to 90 %): a grey-framed view of a crowd or a landscape came back
crisp and nearly all foreground (ECSSD, DAVIS breakdance) and won on certainty alone.
An empty matte (no solid pixel) has certainty 0.

``CoarseMask.confidence`` is the chosen view's certainty, times its agreement
(soft IoU) with the runner-up view when more than one view found something. So it
is low when the model found nothing, when it hesitated everywhere, and when
the views it needed disagree about what the subject is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import ParameterError

logger = logging.getLogger(__name__)

Predict = Callable[[np.ndarray], np.ndarray]

_PAD_MODES = ("none", "grey", "replicate", "reflect")
_SOFT_LO = 0.1
_SOFT_HI = 0.9
_FRAME_KNEE = 0.9
_AREA_KNEE = 0.9


@dataclass(frozen=True)
class View:
    """One way of showing the image to the model.

    Attributes
    ----------
    name : str
        Short label reported in :class:`CoarseMask`.
    pad : float
        Border added on every side, as a fraction of the image's long side (>= 0).
    pad_mode : {"none", "grey", "replicate", "reflect"}
        What fills the border: mid-grey (0.5), the edge pixels repeated, or the
        image mirrored. ``"none"`` requires ``pad == 0``.
    flip : bool
        Mirror the image left-right before the model (and the result back).
    for_frame : bool
        Run this view only when the most certain matte so far touches the image's
        frame or is empty: a border helps a subject the frame cuts, and elsewhere
        only invites the model to pick something else.
    """

    name: str
    pad: float = 0.0
    pad_mode: str = "none"
    flip: bool = False
    for_frame: bool = False

    def __post_init__(self) -> None:
        if self.pad_mode not in _PAD_MODES:
            raise ParameterError(f"View.pad_mode must be one of {_PAD_MODES}; got {self.pad_mode!r}")
        if not (isinstance(self.pad, (int, float)) and 0.0 <= self.pad <= 1.0):
            raise ParameterError(f"View.pad must be a number in [0, 1]; got {self.pad!r}")
        if (self.pad_mode == "none") != (self.pad == 0.0):
            raise ParameterError(
                f"View {self.name!r}: pad_mode 'none' goes with pad 0 and only with it; "
                f"got pad={self.pad!r}, pad_mode={self.pad_mode!r}"
            )


PLAIN = View("plain")
GREY_PAD = View("grey-pad-15", pad=0.15, pad_mode="grey", for_frame=True)
MIRROR = View("mirror", flip=True)

#: The default order: the image as it is, then mirrored (the model's left-right
#: instability), then framed in grey, only for a subject the frame cuts (chosen on
#: alphamatting, Composition-1k and ECSSD together: docs/quality.md).
DEFAULT_VIEWS: tuple[View, ...] = (PLAIN, MIRROR, GREY_PAD)


@dataclass(frozen=True)
class ViewResult:
    """The model's matte for one view, mapped back to image coordinates.

    Attributes
    ----------
    view : View
    alpha : (H, W) float32 in [0, 1]
    certainty : float in [0, 1], see :func:`matte_certainty`.
    """

    view: View
    alpha: np.ndarray
    certainty: float


@dataclass(frozen=True)
class CoarseMask:
    """Result of :func:`predict_coarse`.

    Attributes
    ----------
    alpha : (H, W) float32 in [0, 1]
        The coarse matte at image resolution.
    confidence : float in [0, 1]
        The chosen view's :func:`matte_certainty`, times its agreement with the
        runner-up view if several were run: near 1 for a crisp subject, near 0
        when the model found nothing or the views disagreed.
    views : tuple of str
        Names of the views the model was run on, in order (its length is the
        number of model runs).
    certainties : tuple of float
        Certainty of each of those views.
    source : str
        Name of the view whose matte was returned.
    """

    alpha: np.ndarray
    confidence: float
    views: tuple[str, ...]
    certainties: tuple[float, ...]
    source: str

    @property
    def runs(self) -> int:
        """Number of model runs spent."""
        return len(self.views)

    @property
    def found_subject(self) -> bool:
        """False when the matte is empty (no pixel reaches 0.5)."""
        return bool((self.alpha >= 0.5).any())


def matte_certainty(alpha: np.ndarray) -> float:
    """How sure a model is of a matte, in [0, 1] (the module docstring gives the formula).

    Parameters
    ----------
    alpha : (H, W) float in [0, 1]

    Returns
    -------
    float in [0, 1]; 0 for an empty matte.
    """
    solid = int(np.count_nonzero(alpha >= 0.5))
    if solid == 0:
        return 0.0
    soft = int(np.count_nonzero((alpha > _SOFT_LO) & (alpha < _SOFT_HI)))
    crisp = 1.0 - soft / float(soft + solid)
    frame = np.concatenate([alpha[0, :], alpha[-1, :], alpha[1:-1, 0], alpha[1:-1, -1]])
    covered = float(np.count_nonzero(frame >= 0.5)) / float(frame.size)
    frame_factor = min(1.0, (1.0 - covered) / (1.0 - _FRAME_KNEE))
    area_factor = min(1.0, (1.0 - solid / float(alpha.size)) / (1.0 - _AREA_KNEE))
    return float(crisp * frame_factor * area_factor)


def touches_frame(alpha: np.ndarray) -> bool:
    """Whether a matte ((H, W) float in [0, 1]) has subject (≥ 0.5) on the image's outermost
    pixels, or no subject at all."""
    frame = np.concatenate([alpha[0, :], alpha[-1, :], alpha[:, 0], alpha[:, -1]])
    return bool((frame >= 0.5).any()) or not bool((alpha >= 0.5).any())


def _pad_px(shape: tuple[int, int], view: View) -> int:
    return int(round(view.pad * max(shape)))


def render_view(image: np.ndarray, view: View) -> np.ndarray:
    """The image as ``view`` shows it to the model.

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB
    view : View

    Returns
    -------
    (H + 2p, W + 2p, 3) float32 in [0, 1], RGB, with ``p = round(view.pad * max(H, W))``.
    """
    out = image[:, ::-1] if view.flip else image
    p = _pad_px(image.shape[:2], view)
    if p > 0:
        if view.pad_mode == "grey":
            out = cv2.copyMakeBorder(out, p, p, p, p, cv2.BORDER_CONSTANT, value=(0.5, 0.5, 0.5))
        elif view.pad_mode == "replicate":
            out = cv2.copyMakeBorder(out, p, p, p, p, cv2.BORDER_REPLICATE)
        else:
            out = cv2.copyMakeBorder(out, p, p, p, p, cv2.BORDER_REFLECT_101)
    return np.ascontiguousarray(out, dtype=np.float32)


def unrender_alpha(alpha: np.ndarray, shape: tuple[int, int], view: View) -> np.ndarray:
    """Map a matte of :func:`render_view`'s output back to the image's frame.

    Parameters
    ----------
    alpha : (H + 2p, W + 2p) float in [0, 1]
    shape : (H, W) of the original image
    view : View

    Returns
    -------
    (H, W) float32 in [0, 1]
    """
    h, w = shape
    p = _pad_px(shape, view)
    out = alpha[p : p + h, p : p + w]
    if view.flip:
        out = out[:, ::-1]
    return np.ascontiguousarray(np.clip(out, 0.0, 1.0), dtype=np.float32)


def run_view(image: np.ndarray, predict: Predict, view: View) -> ViewResult:
    """Run the model once on ``view`` of ``image``.

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB
    predict : callable, (h, w, 3) float32 in [0, 1] RGB -> (h, w) float in [0, 1]
    view : View

    Returns
    -------
    ViewResult

    Raises
    ------
    ParameterError
        If ``predict`` returns an array of the wrong shape.
    """
    shown = render_view(image, view)
    raw = np.asarray(predict(shown))
    if raw.shape != shown.shape[:2]:
        raise ParameterError(
            f"predict must return an (h, w) matte of its input's size {shown.shape[:2]}; got shape {raw.shape}"
        )
    alpha = unrender_alpha(raw.astype(np.float32, copy=False), image.shape[:2], view)
    return ViewResult(view=view, alpha=alpha, certainty=matte_certainty(alpha))


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Soft intersection over union of two mattes, in [0, 1] (1 when both are empty).

    Parameters
    ----------
    a, b : (H, W) float in [0, 1]

    Returns
    -------
    float: ``sum(min(a, b)) / sum(max(a, b))``.
    """
    union = float(np.maximum(a, b).sum(dtype=np.float64))
    if union == 0.0:
        return 1.0
    return float(np.minimum(a, b).sum(dtype=np.float64)) / union


def combine_views(results: Sequence[ViewResult]) -> tuple[ViewResult, float]:
    """Pick the most certain view and say how far the other views back it.

    Averaging views was measured and rejected: where a confident right view and
    a confident wrong one meet, the mean is a wide half-grey region that the
    colour-based refiner then resolves worse than either view alone.

    Parameters
    ----------
    results : sequence of ViewResult, at least one

    Returns
    -------
    best : ViewResult
        The view with the highest certainty (the earlier one on ties).
    confidence : float in [0, 1]
        ``best.certainty`` times its :func:`agreement` with the most certain
        of the other views; an empty view (certainty 0) is no evidence either
        way, so with no other non-empty view the factor is 1.
    """
    if not results:
        raise ParameterError("combine_views needs at least one view result; got none")
    ranked = sorted(results, key=lambda r: -r.certainty)
    best = ranked[0]
    confidence = best.certainty
    if len(ranked) > 1 and ranked[1].certainty > 0.0:
        confidence *= agreement(best.alpha, ranked[1].alpha)
    return best, float(confidence)


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise ParameterError(f"image must be a numpy array; got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 2 or image.shape[1] < 2:
        raise ParameterError(f"image must be (H, W, 3) with H, W >= 2; got shape {image.shape}")
    if image.dtype != np.float32:
        raise ParameterError(f"image must be float32 in [0, 1]; got dtype {image.dtype}")


def predict_coarse(
    image: np.ndarray,
    predict: Predict,
    *,
    views: Sequence[View] = DEFAULT_VIEWS,
    max_runs: int = 3,
    confident: float = 0.9,
) -> CoarseMask:
    """Coarse subject matte: run views in order until one is confident, then combine.

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB
        At working resolution.
    predict : callable, (h, w, 3) float32 in [0, 1] RGB -> (h, w) float in [0, 1]
        One model run (the session resizes to its input size and back).
    views : sequence of View, keyword-only
        Views to try, in order; the first is always run.
    max_runs : int, keyword-only
        Most model runs to spend (>= 1). 1 gives the plain single-view model.
    confident : float in (0, 1], keyword-only
        Certainty at which a view is accepted and no further view is run.

    Returns
    -------
    CoarseMask
        Its ``views`` gives the runs spent: 1 when the first view is confident.
        When the model finds nothing in any view, ``alpha`` is all zero and
        ``confidence`` is 0 (the caller decides what to tell the user).

    Raises
    ------
    ParameterError
        On a bad image, an empty view list, or out-of-range tunables.
    """
    _check_image(image)
    views = tuple(views)
    if not views or not all(isinstance(v, View) for v in views):
        raise ParameterError(f"views must be a non-empty sequence of View; got {views!r}")
    if not (isinstance(max_runs, int) and max_runs >= 1):
        raise ParameterError(f"max_runs must be an int >= 1; got {max_runs!r}")
    if not (isinstance(confident, (int, float)) and 0.0 < confident <= 1.0):
        raise ParameterError(f"confident must be a number in (0, 1]; got {confident!r}")

    results: list[ViewResult] = []
    for view in views:
        if len(results) == max_runs:
            break
        if view.for_frame and results and not touches_frame(max(results, key=lambda r: r.certainty).alpha):
            continue
        result = run_view(image, predict, view)
        results.append(result)
        logger.debug("view %s: certainty %.3f", view.name, result.certainty)
        if result.certainty >= confident:
            break
    best, confidence = combine_views(results)
    if confidence < confident:
        logger.info(
            "coarse mask is uncertain (confidence %.2f after %d view(s): %s)",
            confidence,
            len(results),
            ", ".join(f"{r.view.name}={r.certainty:.2f}" for r in results),
        )
    return CoarseMask(
        alpha=best.alpha,
        confidence=confidence,
        views=tuple(r.view.name for r in results),
        certainties=tuple(r.certainty for r in results),
        source=best.view.name,
    )
