"""Select Subject with a clean plate (after Background Matting, Sengupta et al., CVPR 2020).

    image ──model stage──▶ working image, coarse mask
    plate ──align (homography, gain/bias)──▶ background at the working size
          ──what changed──▶ trimap ──plate prior + solver──▶ working alpha
          ──guided upsampling──▶ alpha ──edge controls──▶ alpha
          ──blur fusion with the plate as B──▶ foreground

The model stage is Select Subject's own (:func:`core.subject.coarse.model_stage`), so a
cached coarse mask serves both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from core.errors import ParameterError
from core.phone.homography import scale_matrix
from core.plate.align import PlateAlignment, PreparedPlate, align_plate, apply_photometric, plate_pixels, warp_plate
from core.plate.matte import changed_region, plate_prior, plate_trimap
from core.subject.coarse import Coarse, model_stage
from core.subject.finish import finish_edges
from core.subject.options import MatteOptions
from core.subject.refine import refine_alpha
from core.subject.result import Matte
from core.subject.stopwatch import Progress, Stopwatch
from core.subject.trimap import budget_size
from core.subject.working import resize_image, upsample_alpha


@dataclass
class PlateMatte(Matte):
    """A :class:`core.subject.result.Matte` made with a clean plate: its ``background`` is the plate
    aligned and matched to the image, ``known`` the pixels the plate covers.

    alignment: how the plate was aligned.
    """

    alignment: PlateAlignment = field(kw_only=True)


@dataclass
class _Working:
    """The working-size inputs of the plate stage (see :func:`_prepare`)."""

    small: np.ndarray
    coarse: np.ndarray
    background: np.ndarray
    valid: np.ndarray
    trimap: np.ndarray


def _prepare(small: np.ndarray, coarse: np.ndarray, background: np.ndarray, valid: np.ndarray,
             noise: float, band: float) -> _Working:
    changed = changed_region(small, background, valid, noise)
    band_px = band * float(np.sqrt(small.shape[0] * small.shape[1]))
    return _Working(small, coarse, background, valid, plate_trimap(changed, valid, coarse, band_px))


def _fit_budget(work: _Working, max_unknown: int, noise: float, band: float) -> _Working:
    """The working inputs shrunk until the trimap has at most ``max_unknown`` unknown pixels."""
    size = budget_size(work.trimap, max_unknown)
    if size is None:
        return work
    valid = cv2.resize(work.valid.astype(np.uint8), (size[1], size[0]), interpolation=cv2.INTER_NEAREST) > 0
    return _prepare(resize_image(work.small, size), resize_image(work.coarse, size),
                    resize_image(work.background, size), valid, noise, band)


def plate_stage(
    image: np.ndarray,
    plate: np.ndarray | PreparedPlate,
    stage: Coarse,
    options: MatteOptions = MatteOptions(),
    *,
    progress: Progress | None = None,
    plate_mask: np.ndarray | None = None,
) -> PlateMatte:
    """Second half of Select Subject with a clean plate.

    image: (H, W, 3) float32 in [0, 1], RGB, the image ``stage`` was computed from.
    plate: (Hp, Wp, 3) float32 in [0, 1], RGB, the same scene without the subject (any size,
        taken by hand from about the same spot). Raises :class:`core.errors.AlignmentError`
        when it cannot be aligned. Or the same prepared by :func:`core.plate.align.prepare_plate`
        (a plate used for many images: its features are found once).
    plate_mask: (Hp, Wp) bool, the plate's pixels that show the scene (None: all).
    """
    prepared, plate = plate, plate_pixels(plate)
    if plate.ndim != 3 or plate.shape[2] != 3 or plate.dtype != np.float32:
        raise ParameterError(f"plate: expected (H, W, 3) float32 in [0, 1]; got {plate.dtype} {plate.shape}")
    watch = Stopwatch(progress, dict(stage.timings))
    small, coarse = stage.small, stage.coarse
    if plate_mask is not None and plate_mask.shape != plate.shape[:2]:
        raise ParameterError(f"plate_mask: expected shape {plate.shape[:2]}; got {plate_mask.shape}")
    background, valid, alignment = align_plate(small, prepared, plate_mask=plate_mask)
    watch.lap("align", 0.62)
    work = _prepare(small, coarse.alpha, background, valid, alignment.noise, options.band)
    if options.refine == "best":
        work = _fit_budget(work, options.max_unknown, alignment.noise, options.band)
    prior = plate_prior(work.small, work.background, work.valid, work.trimap, alignment.noise)
    watch.lap("trimap", 0.66)
    estimate = np.where(prior[1] > 0, prior[0], work.coarse).astype(np.float32)
    estimate[work.trimap == 0] = 0.0
    estimate[work.trimap == 255] = 1.0
    refined = refine_alpha(work.small, work.trimap, estimate, mode=options.refine, prior=prior)
    watch.lap("refine", 0.8)
    unedited = upsample_alpha(refined, work.small, image)
    watch.lap("upsample", 0.85)
    full_background, known = full_size_background(plate, alignment, small.shape[:2], image.shape[:2], plate_mask)
    alpha, foreground = finish_edges(image, unedited, options.edges, options.decontaminate, progress=watch.lap,
                                     background=full_background, known=known)
    coarse = dataclasses.replace(coarse, alpha=work.coarse) if work.coarse.shape != coarse.alpha.shape else coarse
    return PlateMatte(alpha, foreground, coarse, work.trimap, refined, unedited, watch.timings,
                      full_background, known, alignment=alignment)


def full_size_background(plate: np.ndarray, alignment: PlateAlignment, working: tuple[int, int],
                         size: tuple[int, int], plate_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The aligned, exposure-matched plate at the image's full ``size`` = (H, W).

    ``alignment.homography`` maps plate pixels to the ``working`` = (h, w) image;
    ``plate_mask`` as for :func:`plate_stage`.
    Returns (background (H, W, 3) float32 in [0, 1], known (H, W) bool).
    """
    to_full = scale_matrix(size[1] / working[1], size[0] / working[0])  # the identity when working == size
    warped, known = warp_plate(plate, to_full @ alignment.homography, size, plate_mask)
    return apply_photometric(warped, alignment.gain, alignment.bias), known


def plate_matte(
    image: np.ndarray,
    plate: np.ndarray | PreparedPlate,
    predict: Callable[[np.ndarray], np.ndarray],
    options: MatteOptions = MatteOptions(),
    *,
    progress: Progress | None = None,
    plate_mask: np.ndarray | None = None,
) -> PlateMatte:
    """Select Subject helped by a clean plate of the same scene.

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    plate: (Hp, Wp, 3) float32 in [0, 1], RGB, the scene without the subject (or prepared, as
        for :func:`plate_stage`).
    predict: a model's ``predict``, as for :func:`core.subject.select.select_subject`.
    options: refinement, edge controls and decontamination, as for Select Subject.
    plate_mask: (Hp, Wp) bool, the plate's pixels that show the scene (None: all).

    Returns
    -------
    :class:`PlateMatte`, full-size alpha and foreground (decontaminated against the plate).
    """
    stage = model_stage(image, predict, options, progress=progress)
    return plate_stage(image, plate, stage, options, progress=progress, plate_mask=plate_mask)
