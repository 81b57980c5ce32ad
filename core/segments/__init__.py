"""Soft segmentation layers (after Aksoy et al., Semantic Soft Segmentation, SIGGRAPH 2018).

``soft_segments(image, count)`` splits an image into K soft layers that sum to
one at every pixel, each with its own decontaminated colours.
"""

from core.segments.pipeline import soft_segments
from core.segments.types import SegmentOptions, SoftSegments

__all__ = ["SegmentOptions", "SoftSegments", "soft_segments"]
