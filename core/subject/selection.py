"""Alpha from what the user drew: a trimap (:func:`refine_with_trimap`) or a rough selection
(:func:`refine_mask`)."""

from __future__ import annotations

import cv2
import numpy as np

from core.alpha.info_flow import estimate_alpha_info_flow
from core.errors import ParameterError
from core.subject.options import DEFAULT_REFINE, TRIMAP_WORKING_PIXELS, WORKING_PIXELS
from core.subject.trimap import band_trimap
from core.subject.working import check_image, resize_image, upsample_alpha, working_size


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
    check_image(image)
    if trimap.shape != image.shape[:2] or trimap.dtype != np.uint8:
        raise ParameterError(f"trimap: expected uint8 {image.shape[:2]}; got {trimap.dtype} {trimap.shape}")
    _check_mode(mode, "trimap")
    return _solve(image, trimap, mode=mode, working_pixels=working_pixels)[0]


def refine_mask(image: np.ndarray, mask: np.ndarray, *, mode: str = DEFAULT_REFINE,
                image_small: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Alpha from a user's rough selection (hard or soft).

    Parameters
    ----------
    image: (H, W, 3) float32 in [0, 1], RGB.
    mask: (h, w) float32 in [0, 1], the rough selection: at the image's size, or smaller with its
        aspect (a selection made at a working size; its band is drawn as for the full-size mask,
        without bringing the mask to full size first).
    image_small: the image at the solver's working size (:func:`solver_size`), for a caller that
        refines many selections of one image; None resizes ``image``.

    Returns
    -------
    (alpha (H, W) float32 in [0, 1], trimap (H, W) uint8 in {0, 128, 255}).
    """
    check_image(image)
    height, width = image.shape[:2]
    if mask.ndim != 2 or mask.shape[0] > height or mask.shape[1] > width or (
            abs(mask.shape[0] / height - mask.shape[1] / width) > 1.0 / min(height, width)):
        raise ParameterError(f"mask: expected shape {image.shape[:2]} or smaller with its aspect; got {mask.shape}")
    _check_mode(mode, "mask")
    return _solve(image, band_trimap(mask, image.shape, pixels=WORKING_PIXELS[mode]), mode=mode,
                  image_small=image_small)


def solver_size(shape: tuple[int, ...], mode: str = DEFAULT_REFINE, working_pixels: int | None = None) -> tuple[int, int]:
    """(h, w): the size the solver works at for an image of ``shape`` in ``mode`` ("fast" or "best")."""
    return working_size(shape, working_pixels or TRIMAP_WORKING_PIXELS[mode])


def _check_mode(mode: str, what: str) -> None:
    if mode not in ("fast", "best"):
        raise ParameterError(f"mode: {what} refinement is 'fast' or 'best'; got {mode!r}")


def _solve(image: np.ndarray, trimap: np.ndarray, *, mode: str, working_pixels: int | None = None,
           image_small: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(alpha (H, W) float32 in [0, 1], the trimap at (H, W)) from ``trimap`` (uint8, at the image's size
    or smaller with its aspect): information-flow matting at :func:`solver_size`, brought back to full
    size by guided upsampling; the trimap's known pixels keep their value."""
    size = solver_size(image.shape, mode, working_pixels)
    small = resize_image(image, size) if image_small is None else image_small
    if small.shape[:2] != size:
        raise ParameterError(f"image_small: expected the image at {size}; got {small.shape[:2]}")
    small_trimap = cv2.resize(trimap, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
    alpha = upsample_alpha(estimate_alpha_info_flow(small, small_trimap), small, image)
    height, width = image.shape[:2]
    if trimap.shape != (height, width):
        trimap = cv2.resize(trimap, (width, height), interpolation=cv2.INTER_NEAREST)
    alpha[trimap == 0] = 0.0
    alpha[trimap == 255] = 1.0
    return alpha, trimap
