"""How much a subject's colours and its background's overlap: where they do, colour cannot separate
the two, and the model's matte should decide rather than a colour-based solver."""

from __future__ import annotations

import numpy as np

LEVELS = 8
"""Histogram bins per channel (8 × 8 × 8 colours)."""

COLOUR_OVERLAP = 0.2
"""The colour overlap (:func:`colour_overlap` of the model's subject, at the working size) above which
colour is taken not to tell subject from background (:func:`colours_overlap`). ECSSD gains on every
measure as the model is trusted more and the alphamatting portraits lose; their overlap is 0.01–0.24
(median 0.08), ECSSD's 0.002–0.80 (median 0.28)."""


def colour_overlap(image: np.ndarray, subject: np.ndarray) -> float:
    """Histogram intersection of the subject's and the background's colours: 0 when they share no
    colour, 1 when their colour histograms are the same (also when either side is empty).

    image: (h, w, 3) float32 in [0, 1], RGB; subject: (h, w) bool, the subject's pixels.
    """
    if subject.all() or not subject.any():
        return 1.0
    codes = np.minimum((image * LEVELS).astype(np.int32), LEVELS - 1)
    codes = (codes[..., 0] * LEVELS + codes[..., 1]) * LEVELS + codes[..., 2]
    bins = LEVELS ** 3
    inside = np.bincount(codes[subject], minlength=bins) / float(subject.sum())
    outside = np.bincount(codes[~subject], minlength=bins) / float((~subject).sum())
    return float(np.minimum(inside, outside).sum())


def colours_overlap(image: np.ndarray, coarse: np.ndarray) -> bool:
    """Whether the colours of the model's subject and of its background overlap more than
    :data:`COLOUR_OVERLAP`: colour cannot tell them apart, and the model should decide.

    image: (h, w, 3) float32 in [0, 1], RGB; coarse: (h, w) float32 in [0, 1], the model's matte.
    True also when the matte is empty or covers the whole image (:func:`colour_overlap` is 1 there).
    """
    return colour_overlap(image, coarse >= 0.5) > COLOUR_OVERLAP
