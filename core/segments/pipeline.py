"""Soft segmentation, stage by stage (Aksoy et al., Semantic Soft Segmentation, 2018).

working image → superpixels → Laplacian (matting + semantic + non-local colour)
→ smallest eigenvectors → k-means initial segments → sparsification → grouping
into K layers → guided upsampling to full size → per-layer colours.
"""

from __future__ import annotations

import numpy as np

from core.subject.stopwatch import Stopwatch
from core.subject.working import resize_image, working_size

from core.segments._inputs import check_arguments
from core.segments.affinity import segmentation_laplacian
from core.segments.colors import layer_colors
from core.segments.eigen import smallest_eigenvectors
from core.segments.grouping import group_segments, segment_descriptors, ward_groups
from core.segments.semantic import reduce_features
from core.segments.sparsify import kmeans_segments, sparsify
from core.segments.superpixels import compute_superpixels
from core.segments.types import SegmentOptions, SoftSegments
from core.segments.upsample import upsample_layers


def soft_segments(
    image: np.ndarray,
    count: int = 5,
    *,
    features: np.ndarray | None = None,
    options: SegmentOptions = SegmentOptions(),
) -> SoftSegments:
    """Split an image into ``count`` soft layers with their own colours.

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB, any size.
    count : K, the number of layers, 2..10.
    features : (h, w, C) float32 semantic feature map at any resolution (e.g.
        :meth:`core.models.session.MaskSession.features`), or None: no semantic term.
    options : tunables.

    Returns
    -------
    SoftSegments with alphas (K, H, W) float32 >= 0 summing to 1 over K, and
    colors (K, H, W, 3) float32 in [0, 1], layers ordered by area, largest first.
    """
    return segment_with_timings(image, count, features=features, options=options)[0]


def segment_with_timings(
    image: np.ndarray,
    count: int = 5,
    *,
    features: np.ndarray | None = None,
    options: SegmentOptions = SegmentOptions(),
) -> tuple[SoftSegments, dict[str, float]]:
    """:func:`soft_segments` and the seconds each stage took (for benchmarks)."""
    check_arguments(image, count, features, options)
    clock = Stopwatch(None)
    small = resize_image(image, working_size(image.shape, options.working_pixels))
    reduced = None if features is None else reduce_features(features, small)
    superpixels = compute_superpixels(small, size=options.superpixel_size)
    clock.lap("prepare", 0.1)
    laplacian = segmentation_laplacian(
        small,
        superpixels,
        reduced,
        matting_epsilon=options.matting_epsilon,
        semantic_weight=options.semantic_weight,
        color_weight=options.color_weight,
    )
    clock.lap("laplacian", 0.2)
    values, vectors = smallest_eigenvectors(laplacian, options.eigenvectors)
    clock.lap("eigen", 0.5)
    start = kmeans_segments(vectors, values, options.initial_segments)
    segments = sparsify(vectors, values, start, iterations=options.sparsify_iterations, sparsity=options.sparsity)
    np.clip(segments, 0.0, None, out=segments)
    clock.lap("sparsify", 0.7)
    descriptors, areas = segment_descriptors(
        segments,
        small,
        reduced,
        feature_weight=options.group_feature_weight,
        color_weight=options.group_color_weight,
        position_weight=options.group_position_weight,
    )
    labels = ward_groups(descriptors, areas, count)
    low = group_segments(segments, labels, count).reshape(count, *small.shape[:2]).astype(np.float32)
    clock.lap("group", 0.75)
    alphas = upsample_layers(low, small, image, radius=options.upsample_radius, eps=options.upsample_eps)
    order = np.argsort(-alphas.sum(axis=(1, 2), dtype=np.float64), kind="stable")
    if (order != np.arange(count)).any():  # rare: the groups come sorted; reordering copies all K layers
        alphas = alphas[order]
    clock.lap("upsample", 0.9)
    colors = layer_colors(image, alphas, radius=options.color_radius)
    clock.lap("colors", 1.0)
    return SoftSegments(alphas=alphas, colors=colors), clock.timings
