"""How much a subject's colours and its background's overlap: where they do, colour cannot separate
the two, and the model's matte should decide rather than a colour-based solver."""

from __future__ import annotations

import numpy as np

LEVELS = 8
"""Histogram bins per channel (8 × 8 × 8 colours)."""


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
