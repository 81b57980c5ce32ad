"""Alpha from what the user drew: a trimap (:func:`refine_with_trimap`) or a rough selection
(:func:`refine_mask`)."""

from __future__ import annotations

import cv2
import numpy as np

from core.alpha.info_flow import estimate_alpha_info_flow
from core.errors import ParameterError
from core.subject.options import DEFAULT_REFINE, TRIMAP_WORKING_PIXELS, WORKING_PIXELS
from core.subject.trimap import mask_trimap
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
    check_image(image)
    if mask.shape != image.shape[:2]:
        raise ParameterError(f"mask: expected shape {image.shape[:2]}; got {mask.shape}")
    if mode not in ("fast", "best"):
        raise ParameterError(f"mode: mask refinement is 'fast' or 'best'; got {mode!r}")
    trimap = mask_trimap(mask, pixels=WORKING_PIXELS[mode])
    return refine_with_trimap(image, trimap, mode=mode), trimap
