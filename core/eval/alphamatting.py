"""The alphamatting.com low-resolution training images (``../shared/data/alphamatting``:
``input/``, ``gt/``, ``trimap1/``, ``trimap2/``, each with GT01.png … GT15.png).

Scoring them is :mod:`core.eval.folder`'s (``softcut eval DATA``); this module keeps the
image list the benchmarks use.
"""

from __future__ import annotations

from pathlib import Path

from core.eval.folder import find_pairs


def image_names(data: Path) -> list[str]:
    """The stems of the images that have both an input and a ground truth, sorted."""
    return [pair.name for pair in find_pairs(Path(data))]
