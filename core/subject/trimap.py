"""The trimaps: Select Subject's (the model's band, grown where strands can be), shrunk to the
unknown budget, at the image's size (:func:`subject_trimap`), and around a user's rough selection
(:func:`mask_trimap`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np

from core.subject.colours import colours_overlap
from core.subject.options import DEFAULT_BAND, DEFAULT_REFINE, WORKING_PIXELS
from core.subject.working import check_image, resize_image, working_size
from core.trimap.auto import UNKNOWN, auto_trimap, trimap_from_mask
from core.trimap.strands import strand_region
from core.views import CoarseMask, predict_coarse

SURE_FOREGROUND = 0.95
"""The model's values at or above this are known foreground in Select Subject's trimap."""

SURE_OVERLAP = 0.7
"""The same in a photo whose colours overlap (:func:`core.subject.colours.colours_overlap`): where
colour cannot tell subject from background, a body the model gives 0.7–0.95 (planks on a cart,
ECSSD 0702) is the model's to decide, not the solver's. Measured 0.7 and 0.8 (docs/quality.md): ECSSD
MAE 0.0336 → 0.0327 and, held out, 0.0288 → 0.0281; alphamatting 15.97 → 15.96, Composition-1k
36.71 → 36.19; the sample (overlap 0.06) as it was. One threshold for every photo was not adopted:
at 0.8 most alphamatting portraits lose a little (9 of 15) and MSE and gradient rise."""


def sure_foreground(overlap: bool) -> float:
    """The model's value from which a pixel is known foreground: :data:`SURE_OVERLAP` in a photo whose
    subject and background colours overlap, else :data:`SURE_FOREGROUND`."""
    return SURE_OVERLAP if overlap else SURE_FOREGROUND


def budget_size(trimap: np.ndarray, max_unknown: int) -> tuple[int, int] | None:
    """The (height, width) at which ``trimap`` (h, w) uint8 would have at most ``max_unknown``
    unknown pixels (unknown area scales with pixel count), or None when it already has."""
    unknown = int(np.count_nonzero((trimap > 0) & (trimap < 255)))
    if unknown <= max_unknown:
        return None
    return working_size(trimap.shape, int(trimap.shape[0] * trimap.shape[1] * max_unknown / unknown))


def matting_trimap(
    image: np.ndarray, coarse_alpha: np.ndarray, *, band: float = DEFAULT_BAND, strands: bool = True,
    sure: float = SURE_FOREGROUND,
) -> tuple[np.ndarray, np.ndarray]:
    """A trimap as Select Subject draws it: the model's band (:func:`core.trimap.auto.auto_trimap`, the
    model's values at or above ``sure`` known foreground), grown where strands can be
    (:func:`core.trimap.strands.strand_region`). ``sure`` for a photo is :func:`sure_foreground`'s
    (:func:`photo_trimap` applies it); the default is the threshold for a photo whose colours are
    told apart, and `fast`'s.

    image: (h, w, 3) float32 in [0, 1], RGB; coarse_alpha: (h, w) float32 in [0, 1].
    Returns (trimap (h, w) uint8 in {0, 128, 255}, strands (h, w) bool: where strands can be,
    all of them unknown in the trimap).
    """
    trimap = auto_trimap(coarse_alpha, band=band, fg_threshold=sure)
    grown = strand_region(image, coarse_alpha, trimap) if strands else np.zeros(trimap.shape, bool)
    trimap[grown] = UNKNOWN
    return trimap, grown


def fit_unknown_budget(
    image: np.ndarray, coarse: CoarseMask, trimap: np.ndarray, max_unknown: int, *, band: float = DEFAULT_BAND,
    strands: bool = False, sure: float = SURE_FOREGROUND,
) -> tuple[np.ndarray, CoarseMask, np.ndarray, np.ndarray | None]:
    """Shrink the working image, coarse mask and trimap until the trimap has at most
    ``max_unknown`` unknown pixels (unknown area scales with pixel count).

    image: (h, w, 3) float32 [0, 1]; trimap: (h, w) uint8. Returns them at the new size,
    the trimap remade there by :func:`matting_trimap` (``band``, ``strands``, ``sure``), and its
    grown strand pixels ((h, w) bool), or None when nothing had to shrink.
    """
    size = budget_size(trimap, max_unknown)
    if size is None:
        return image, coarse, trimap, None
    alpha = resize_image(coarse.alpha, size)
    small = resize_image(image, size)
    trimap, grown = matting_trimap(small, alpha, band=band, strands=strands, sure=sure)
    return small, dataclasses.replace(coarse, alpha=alpha), trimap, grown


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
    check_image(image)
    small = resize_image(image, working_size(image.shape, pixels))
    coarse = predict_coarse(small, predict)
    trimap = cv2.resize(photo_trimap(small, coarse.alpha, band=band), (image.shape[1], image.shape[0]),
                        interpolation=cv2.INTER_NEAREST)
    return trimap, coarse


def photo_trimap(image: np.ndarray, coarse_alpha: np.ndarray, *, band: float = DEFAULT_BAND) -> np.ndarray:
    """Select Subject's trimap for this photo at the working size, as ``best`` starts from it: the
    model's values from :func:`sure_foreground` (by :func:`core.subject.colours.colours_overlap`) known
    foreground, grown where strands can be.

    image: (h, w, 3) float32 in [0, 1], RGB; coarse_alpha: (h, w) float32 in [0, 1].
    Returns (h, w) uint8 in {0, 128, 255}.
    """
    sure = sure_foreground(colours_overlap(image, coarse_alpha))
    return matting_trimap(image, coarse_alpha, band=band, sure=sure)[0]


def mask_trimap(mask: np.ndarray, *, pixels: int = WORKING_PIXELS[DEFAULT_REFINE]) -> np.ndarray:
    """Trimap around a rough selection, its band drawn at a working size of ``pixels``
    so that the band's width follows the image's scale.

    mask: (H, W) float32 in [0, 1]. Returns (H, W) uint8 in {0, 128, 255}.
    """
    small = band_trimap(mask, mask.shape, pixels=pixels)
    return cv2.resize(small, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_NEAREST)


def band_trimap(mask: np.ndarray, shape: tuple[int, ...], *, pixels: int = WORKING_PIXELS[DEFAULT_REFINE]) -> np.ndarray:
    """:func:`mask_trimap` at its working size: the trimap around a rough selection of an image of
    ``shape`` (H, W), as drawn at ``working_size(shape, pixels)``.

    mask: (h, w) float32 in [0, 1], the image's size or smaller with its aspect (a selection made at
    a working size). Returns uint8 in {0, 128, 255} at the working size."""
    return trimap_from_mask(resize_image(mask.astype(np.float32), working_size(shape, pixels)))
