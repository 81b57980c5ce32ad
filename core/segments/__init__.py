"""Soft segmentation layers (after Aksoy et al., Semantic Soft Segmentation, SIGGRAPH 2018).

``soft_segments(image, count)`` splits an image into K soft layers that sum to
one at every pixel, each with its own decontaminated colours.
"""

from core.segments.pipeline import soft_segments
from core.segments.semantic import model_features
from core.segments.types import LAYER_MASKS, SegmentOptions, SoftSegments

__all__ = ["LAYER_MASKS", "SegmentOptions", "SoftSegments", "model_features", "soft_segments"]
