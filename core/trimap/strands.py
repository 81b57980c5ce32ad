"""Where hair and other thin strands can be: the unknown region beyond the model's band.

A salient-object model often answers only for a subject's body and drops the fine
strands around it, or answers for them on one side only (where they stand out against
the background) and not on the other. A fixed band around the model's contour is then
far narrower than the strands. Strands leave a mark the model does not need to see,
though: fine, high-contrast texture next to the subject, where an out-of-focus or plain
background has none. So the unknown region grows from the automatic trimap's band into
background pixels that

- lie within ``reach`` of the model's subject (a fraction of √(H·W)),
- carry fine texture well above the background's own (``contrast`` times the median
  texture of background far from the subject), and
- connect to the band through such texture (a textured wall away from the subject
  stays known background),

and only when the background is quiet (``QUIET_BACKGROUND``), the grown region stays
smaller than the subject (``MAX_GROWTH``) and the model responds there, however faintly
(``FAINT_SHARE``): on a busy background, or on texture the model is sure is not the subject,
fine texture says nothing about strands.

The colour flows of the solver then decide each pixel, as in any unknown region; the
model's own matte must not hold these pixels at 0 (it missed them), so callers drop
its guide there.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from core.trimap.auto import BACKGROUND, UNKNOWN

STRAND_REACH = 0.2
"""How far from the model's subject strands are looked for, as a fraction of √(H·W)."""

STRAND_CONTRAST = 3.0
"""Texture, relative to the far background's median, that counts as strands."""

QUIET_BACKGROUND = 0.01
"""Strands are looked for only when the background's median fine texture is below this
(an out-of-focus or plain background): on a busy one (foliage, stone, a crowd) strands
cannot be told from it, and growing there cost ECSSD photos more than it gained."""

MAX_GROWTH = 1.5
"""A grown region larger than this many times the subject is not strands but background
texture that touches it: nothing is grown then."""

FAINT_LEVEL = 0.005
FAINT_SHARE = 0.08
"""Strands the model missed still leave a faint response: at least ``FAINT_SHARE`` of the grown
pixels must have a model value above ``FAINT_LEVEL``. Texture the model gives exactly nothing
(grass, foliage, a railing beside the subject) is background, and nothing is grown. The README's
sample has 10 %, alphamatting's portraits 49–73 %; a floor under a car and a ground of dry grass
(ECSSD 0622, 0026) 5–6 %, and strands grown there cost 0.03–0.08 IoU (0.05 before: docs/quality.md)."""

_FINE_SIGMA = 1.5  # scale of the fine texture (px at the working size)


def fine_texture(image: np.ndarray) -> np.ndarray:
    """Local energy of fine detail: |image − blur(image)|, largest channel, averaged.

    image: (H, W, 3) float32 in [0, 1], RGB. Returns (H, W) float32 ≥ 0.
    """
    detail = np.abs(image - cv2.GaussianBlur(image, (0, 0), _FINE_SIGMA)).max(axis=2)
    return cv2.GaussianBlur(detail, (0, 0), 3 * _FINE_SIGMA)


def strand_region(
    image: np.ndarray,
    coarse_alpha: np.ndarray,
    trimap: np.ndarray,
    *,
    reach: float = STRAND_REACH,
    contrast: float = STRAND_CONTRAST,
) -> np.ndarray:
    """Background pixels of ``trimap`` where strands of the subject can be (module docstring).

    image: (H, W, 3) float32 in [0, 1], RGB; coarse_alpha: (H, W) float32 in [0, 1], the
    model's matte; trimap: (H, W) uint8 in {0, 128, 255}, from it.
    Returns (H, W) bool, strand pixels among the trimap's background and unknown ones
    (the background ones are where the unknown region grows); empty when the model found
    no subject or the trimap has no background.
    """
    h, w = trimap.shape
    subject = (coarse_alpha >= 0.5).astype(np.uint8)
    background = trimap == BACKGROUND
    unknown = trimap == UNKNOWN
    if reach <= 0 or not subject.any() or not background.any() or not unknown.any():
        return np.zeros((h, w), bool)
    texture = fine_texture(image)
    background_level = float(np.median(texture[background]))
    if background_level > QUIET_BACKGROUND:
        return np.zeros((h, w), bool)
    distance = cv2.distanceTransform(1 - subject, cv2.DIST_L2, 3)
    radius = reach * math.sqrt(h * w)
    far = background & (distance > radius)
    reference = float(np.median(texture[far])) if np.count_nonzero(far) > 100 else background_level
    candidate = (background | unknown) & (distance <= radius) & (texture > contrast * max(reference, 1e-3))
    if not candidate.any():
        return candidate
    _, labels = cv2.connectedComponents((candidate | unknown).astype(np.uint8), connectivity=8)
    touching = np.unique(labels[unknown])
    region = candidate & np.isin(labels, touching[touching > 0])
    grown = region & background
    if np.count_nonzero(grown) > MAX_GROWTH * np.count_nonzero(subject):
        return np.zeros((h, w), bool)
    if grown.any() and np.mean(coarse_alpha[grown] > FAINT_LEVEL) < FAINT_SHARE:
        return np.zeros((h, w), bool)
    return region
