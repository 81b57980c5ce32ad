"""The public value types of soft segmentation: its options and its result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.composite import cutout_rgba, stacked_masks
from core.errors import ParameterError

LAYER_MASKS = ("soft", "stacked")
"""What a layer's alpha holds, see :meth:`SoftSegments.layers_rgba`."""


@dataclass(frozen=True)
class SegmentOptions:
    """Tunables of :func:`core.segments.soft_segments` (all literal defaults).

    working_pixels: the spectral problem is solved at (at most) this many pixels.
        The eigensolver's cost grows steeply with it (measured on 2 cores:
        0.03 MP about 2.5 s, 0.04 MP 5-6 s with all three terms); edges come back at full size through
        guided upsampling.
    eigenvectors: how many of the Laplacian's smallest eigenvectors span the layers.
    initial_segments: k-means clusters of the spectral embedding that start the
        sparsification (the paper uses 40 with 100 eigenvectors).
    sparsify_iterations: reweighted least-squares iterations of the sparsification.
    sparsity: exponent gamma of the sparsity prior |a|^gamma + |1 - a|^gamma, in (0, 1).
    superpixel_size: mean superpixel area in working pixels.
    semantic_weight, color_weight: weights of the superpixel semantic and
        non-local colour affinities beside the matting affinity (paper: 0.01 each).
    matting_epsilon: regulariser of the matting Laplacian.
    upsample_radius, upsample_eps: guided upsampling window radius (working
        pixels) and ridge.
    group_feature_weight, group_color_weight, group_position_weight: how much
        the segments' mean semantic features, mean colour and centre count
        when the initial segments are grouped into K layers.
    color_radius: radius of the local colour means behind each layer's colours,
        as a fraction of the image's long side.
    """

    working_pixels: int = 30_000
    eigenvectors: int = 40
    initial_segments: int = 30
    sparsify_iterations: int = 20
    sparsity: float = 0.8
    superpixel_size: int = 80
    semantic_weight: float = 0.01
    color_weight: float = 0.01
    matting_epsilon: float = 1e-7
    upsample_radius: int = 1
    upsample_eps: float = 1e-5
    color_radius: float = 0.01
    group_feature_weight: float = 3.0
    group_color_weight: float = 0.5
    group_position_weight: float = 0.3


@dataclass(frozen=True)
class SoftSegments:
    """K soft layers of an image, largest first.

    alphas: (K, H, W) float32, >= 0, summing to 1 over K at every pixel.
    colors: (K, H, W, 3) float32 in [0, 1], RGB: each layer's decontaminated
        colours, with sum_k alphas[k] * colors[k] == image wherever the clipping
        to [0, 1] allows.
    """

    alphas: np.ndarray
    colors: np.ndarray

    def layers_rgba(self, masks: str = "soft") -> Iterator[np.ndarray]:
        """Each layer in order as (H, W, 4) uint8 straight RGBA: its colours, and as alpha its
        own soft alpha (``masks`` "soft") or its stacking mask ("stacked": the layers stacked
        in order with normal blending give back the image, see :func:`core.composite.stacked_masks`)."""
        if masks not in LAYER_MASKS:
            raise ParameterError(f"masks: expected one of {', '.join(LAYER_MASKS)}; got {masks!r}")
        alphas = stacked_masks(self.alphas) if masks == "stacked" else self.alphas
        for colors, alpha in zip(self.colors, alphas):
            yield cutout_rgba(colors, alpha)
