"""Scoring Softcut on the alphamatting.com low-resolution training images.

Folder layout (``../shared/data/alphamatting``): ``input/``, ``gt/``,
``trimap1/``, ``trimap2/``, each with GT01.png … GT15.png.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ParameterError
from core.eval.metrics import all_metrics
from core.imageio import load_grey, load_image
from core.pipeline import MatteOptions, refine_with_trimap, select_subject

MODES = ("trimap", "subject")
METRIC_NAMES = ("sad", "mse", "grad", "conn")


@dataclass(frozen=True)
class Row:
    """One image's scores (``seconds``: the method's own time; ``runs`` and
    ``confidence``: model runs spent and the coarse mask's confidence, subject mode only)."""

    image: str
    sad: float
    mse: float
    grad: float
    conn: float
    seconds: float
    runs: int = 0
    confidence: float = float("nan")


def image_names(data: Path) -> list[str]:
    """The stems of the images that have both an input and a ground truth."""
    if not (data / "input").is_dir() or not (data / "gt").is_dir():
        raise ParameterError(f"data: {data} has no input/ and gt/ folders (an alphamatting.com layout)")
    return sorted(p.stem for p in (data / "input").glob("*.png") if (data / "gt" / p.name).is_file())


def evaluate(
    data: Path,
    *,
    mode: str,
    refine: str = "best",
    trimap_set: str = "trimap1",
    predict: Callable[[np.ndarray], np.ndarray] | None = None,
    names: list[str] | None = None,
) -> Iterator[Row]:
    """Score each image; yields rows as they finish.

    mode "trimap": refine the given trimap, scored on its unknown pixels.
    mode "subject": Select Subject with ``predict`` (no trimap), scored on the whole image.
    """
    if mode not in MODES:
        raise ParameterError(f"mode: expected one of {', '.join(MODES)}; got {mode!r}")
    if mode == "subject" and predict is None:
        raise ParameterError("predict: mode 'subject' needs a model")
    for name in names or image_names(data):
        image = load_image(data / "input" / f"{name}.png")
        gt = load_grey(data / "gt" / f"{name}.png").astype(np.float32) / 255.0
        start = time.perf_counter()
        extra = {}
        if mode == "trimap":
            trimap = load_grey(data / trimap_set / f"{name}.png")
            alpha = refine_with_trimap(image, trimap, mode=refine)
            region = (trimap > 0) & (trimap < 255)
        else:
            matte = select_subject(image, predict, MatteOptions(refine=refine, decontaminate=0.0))
            alpha, region = matte.alpha, np.ones(gt.shape, bool)
            extra = {"runs": len(matte.coarse.views), "confidence": matte.confidence}
        seconds = time.perf_counter() - start
        yield Row(name, seconds=seconds, **extra, **all_metrics(alpha, gt, region))


def summary(rows: list[Row]) -> dict[str, dict[str, float]]:
    """``{"mean": {...}, "median": {...}}`` over the metric columns and seconds."""
    out: dict[str, dict[str, float]] = {"mean": {}, "median": {}}
    for key in METRIC_NAMES + ("seconds",):
        values = [getattr(r, key) for r in rows]
        out["mean"][key] = statistics.fmean(values) if values else float("nan")
        out["median"][key] = statistics.median(values) if values else float("nan")
    return out


def write_csv(rows: list[Row], path: Path) -> None:
    """Per-image rows, then ``mean`` and ``median`` rows."""
    stats = summary(rows)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("image",) + METRIC_NAMES + ("seconds", "runs", "confidence"))
        for r in rows:
            writer.writerow(
                [r.image] + [f"{getattr(r, k):.4f}" for k in METRIC_NAMES + ("seconds",)] + [r.runs, f"{r.confidence:.3f}"]
            )
        for label in ("mean", "median"):
            writer.writerow([label] + [f"{stats[label][k]:.4f}" for k in METRIC_NAMES + ("seconds",)])
