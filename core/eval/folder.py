"""Score Softcut on any folder of images with ground truth.

Layout: ``input/NAME.png|jpg`` with ``gt/NAME.png`` (grey, or RGB with equal channels:
channel 0 is read) and, for trimap refinement, ``trimap/NAME.png`` or ``trimap1/NAME.png``
(0 background, 128 unknown, 255 foreground).

Ground truth with only the values 0 and 255 is *binary* (salient-object sets: ECSSD,
COCO-MVal, DAVIS) and is scored with MAE, max F, S-measure and IoU (:mod:`core.eval.salient`);
any other is *soft* (matting sets: alphamatting, Composition-1k) and is scored with SAD,
MSE, gradient and connectivity errors (:mod:`core.eval.metrics`) over the whole image.
With a trimap, the trimap's unknown pixels are scored with the soft metrics.

Methods: ``raw``, the plain model output resized to the image (one run, no views);
``none``, ``fast`` and ``best``, Select Subject with that refinement and no
decontamination; with a trimap, ``fast`` and ``best`` refine the trimap.

:func:`plan` finds the images and decides what is scored, :func:`evaluate` yields one
:class:`Row` per image and method, :func:`summarise` and :func:`compare_with_raw`
aggregate them and :func:`write_csv` writes them.
"""

from __future__ import annotations

import csv
import math
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import ParameterError
from core.eval import salient
from core.eval.metrics import all_metrics
from core.imageio import float_to_uint8, load_image
from core.subject.options import MatteOptions
from core.subject.select import select_subject
from core.subject.selection import refine_with_trimap

Predict = Callable[[np.ndarray], np.ndarray]

METHODS = ("raw", "none", "fast", "best")
TRIMAP_METHODS = ("fast", "best")
GT_KINDS = ("auto", "binary", "soft")
SOFT_METRICS = ("sad", "mse", "grad", "conn")
BINARY_METRICS = ("mae", "max_f", "s_measure", "iou")
INPUT_SUFFIXES = (".png", ".jpg", ".jpeg")
TRIMAP_FOLDERS = ("trimap", "trimap1")
"""The trimap folders looked for, in order, when none is named."""

IOU_DROP = 0.05
"""Binary ground truth: a method is worse than raw on an image whose IoU is lower by more than this."""

SAD_RISE = 1.0
"""Soft ground truth: a method is worse than raw on an image whose SAD is higher by more than this."""


@dataclass(frozen=True)
class Pair:
    """One image of a folder: its name (the file stem) and files (trimap: None without one)."""

    name: str
    image: Path
    gt: Path
    trimap: Path | None = None


@dataclass(frozen=True)
class Plan:
    """What :func:`evaluate` scores.

    pairs: the images, in name order. kind: "binary" or "soft", the ground truth's.
    methods: those of :data:`METHODS` to run, in order. metrics: the scored columns.
    trimap: the trimap folder's name, or None for trimap-free Select Subject.
    """

    data: Path
    pairs: tuple[Pair, ...]
    kind: str
    methods: tuple[str, ...]
    metrics: tuple[str, ...]
    trimap: str | None = None

    @property
    def needs_model(self) -> bool:
        return self.trimap is None


@dataclass(frozen=True)
class Row:
    """One image scored with one method.

    scores: metric name -> value (the plan's ``metrics``). seconds: the method's own time
    (model runs included, cached or not). runs: model runs it made (0 with a trimap).
    confidence: the coarse mask's confidence (Select Subject only, else NaN).
    curve: (256,) F-measure per threshold (binary ground truth only).
    """

    image: str
    method: str
    scores: dict[str, float]
    seconds: float
    runs: int = 0
    confidence: float = float("nan")
    curve: np.ndarray | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        """JSON-ready (no curve; NaN as None)."""
        return {"image": self.image, "method": self.method, **self.scores, "seconds": self.seconds,
                "runs": self.runs, "confidence": None if math.isnan(self.confidence) else self.confidence}


def trimap_folder(data: Path, name: str | None) -> str:
    """The trimap folder's name: ``name`` when given, else the first of :data:`TRIMAP_FOLDERS` present."""
    if name is not None:
        if not (data / name).is_dir():
            raise ParameterError(f"trimap: {data} has no {name}/ folder")
        return name
    for candidate in TRIMAP_FOLDERS:
        if (data / candidate).is_dir():
            return candidate
    raise ParameterError(f"trimap: {data} has no {' or '.join(f'{c}/' for c in TRIMAP_FOLDERS)} folder")


def find_pairs(data: Path, *, trimap: str | None = None) -> list[Pair]:
    """The images of ``data`` that have a ground truth (and a trimap in ``data/trimap``
    when ``trimap`` is given), sorted by name."""
    data = Path(data)
    if not (data / "input").is_dir() or not (data / "gt").is_dir():
        raise ParameterError(f"data: {data} has no input/ and gt/ folders")
    pairs = []
    for image in sorted((data / "input").iterdir()):
        gt = data / "gt" / f"{image.stem}.png"
        if image.suffix.lower() not in INPUT_SUFFIXES or not gt.is_file():
            continue
        tri = None
        if trimap is not None:
            tri = data / trimap / f"{image.stem}.png"
            if not tri.is_file():
                continue
        pairs.append(Pair(image.stem, image, gt, tri))
    names = [p.name for p in pairs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ParameterError(f"data: {data}/input has several files named {', '.join(repeated)} (e.g. .png and .jpg)")
    return pairs


def load_mask(path: Path) -> np.ndarray:
    """A ground truth or trimap file as (H, W) uint8 in [0, 255] (channel 0 of a colour file)."""
    return float_to_uint8(load_image(path)[..., 0])


def is_binary(gt: np.ndarray) -> bool:
    """Whether a (H, W) uint8 ground truth holds only 0 and 255."""
    return bool(np.isin(gt, (0, 255)).all())


def plan(
    data: Path,
    *,
    methods: Sequence[str] = ("best",),
    gt: str = "auto",
    trimap: str | None = None,
    names: Sequence[str] | None = None,
    every: int = 1,
    offset: int = 0,
    limit: int | None = None,
) -> Plan:
    """Find the images and decide what is scored.

    methods: from :data:`METHODS` (with a trimap, from :data:`TRIMAP_METHODS`).
    gt: "binary", "soft" or "auto" (binary when every chosen ground truth holds only 0 and 255).
    trimap: a trimap folder's name, "auto" for the first of :data:`TRIMAP_FOLDERS` present,
        or None (trimap-free Select Subject).
    names: only these images (by stem); every: every N-th image, from the ``offset``-th (0: the
        first); limit: at most N images (after ``names``, ``every`` and ``offset``).
    """
    data = Path(data)
    methods = tuple(methods)
    allowed = METHODS if trimap is None else TRIMAP_METHODS
    unknown = [m for m in methods if m not in allowed]
    if not methods or unknown or len(set(methods)) != len(methods):
        context = "" if trimap is None else " with a trimap"
        raise ParameterError(f"methods: expected distinct names from {', '.join(allowed)}{context}; got {', '.join(methods) or 'none'}")
    if gt not in GT_KINDS:
        raise ParameterError(f"gt: expected one of {', '.join(GT_KINDS)}; got {gt!r}")
    if every < 1:
        raise ParameterError(f"every: expected a positive step; got {every}")
    if not 0 <= offset < every:
        raise ParameterError(f"offset: expected 0 to every − 1 ({every - 1}); got {offset}")
    if limit is not None and limit < 1:
        raise ParameterError(f"limit: expected a positive count; got {limit}")
    folder = None if trimap is None else trimap_folder(data, None if trimap == "auto" else trimap)
    pairs = find_pairs(data, trimap=folder)
    if names is not None:
        known = {p.name for p in pairs}
        missing = [n for n in names if n not in known]
        if missing:
            raise ParameterError(f"images: {', '.join(missing)} not found in {data} (with a ground truth)")
        chosen = set(names)
        pairs = [p for p in pairs if p.name in chosen]
    pairs = pairs[offset::every][:limit]
    if not pairs:
        raise ParameterError(f"data: no image of {data}/input has a ground truth in gt/"
                             + ("" if folder is None else f" and a trimap in {folder}/"))
    kind = gt if gt != "auto" else ("binary" if all(is_binary(load_mask(p.gt)) for p in pairs) else "soft")
    metrics = BINARY_METRICS if kind == "binary" and folder is None else SOFT_METRICS
    return Plan(data, tuple(pairs), kind, methods, metrics, folder)


def score(alpha: np.ndarray, gt: np.ndarray, plan: Plan, region: np.ndarray | None = None) -> tuple[dict[str, float], np.ndarray | None]:
    """The plan's metrics of ``alpha`` (H, W) float32 in [0, 1] against ``gt`` (H, W) uint8;
    ``region``: (H, W) bool, the scored pixels of soft metrics (None: all).
    Returns (scores, the F-measure curve or None)."""
    if alpha.shape != gt.shape:
        raise ParameterError(f"alpha: expected the ground truth's shape {gt.shape}; got {alpha.shape}")
    if plan.metrics == BINARY_METRICS:
        mask = gt > 128
        curve = salient.f_curve(alpha, mask)
        scores = {"mae": salient.mae(alpha, mask), "max_f": float(curve.max()),
                  "s_measure": salient.s_measure(alpha, mask), "iou": salient.iou(alpha, mask)}
        return scores, curve
    region = np.ones(gt.shape, bool) if region is None else region
    return all_metrics(alpha, gt.astype(np.float32) / 255.0, region), None


def evaluate(plan: Plan, predict: Predict | None) -> Iterator[Row]:
    """Score each image with each method; yields rows as they finish (image by image).

    predict: the model, ``(h, w, 3) float32 in [0, 1], RGB -> (h, w) float32 in [0, 1]``
    (e.g. :meth:`core.models.session.MaskSession.predict`, or a
    :class:`core.eval.cache.CachedPredict`); unused, and may be None, with a trimap.
    """
    if plan.needs_model and predict is None:
        raise ParameterError("predict: trimap-free evaluation needs a model")
    for pair in plan.pairs:
        image = load_image(pair.image)
        gt = load_mask(pair.gt)
        if gt.shape != image.shape[:2]:
            raise ParameterError(f"{pair.gt}: size {gt.shape[1]}×{gt.shape[0]} differs from the image's "
                                 f"{image.shape[1]}×{image.shape[0]}")
        trimap = None if pair.trimap is None else load_mask(pair.trimap)
        for method in plan.methods:
            yield _run(plan, pair.name, method, image, gt, trimap, predict)


def _run(plan: Plan, name: str, method: str, image: np.ndarray, gt: np.ndarray, trimap: np.ndarray | None,
         predict: Predict | None) -> Row:
    start = time.perf_counter()
    region, extra = None, {}
    if trimap is not None:
        alpha = refine_with_trimap(image, trimap, mode=method)
        region = (trimap > 0) & (trimap < 255)
    elif method == "raw":
        alpha = np.clip(np.asarray(predict(image), dtype=np.float32), 0.0, 1.0)
        extra = {"runs": 1}
    else:
        matte = select_subject(image, predict, MatteOptions(refine=method, decontaminate=0.0))
        alpha = matte.alpha
        extra = {"runs": len(matte.coarse.views), "confidence": matte.confidence}
    seconds = time.perf_counter() - start
    scores, curve = score(alpha, gt, plan, region)
    return Row(name, method, scores, seconds, curve=curve, **extra)


def summarise(rows: Iterable[Row], plan: Plan) -> dict[str, dict[str, dict[str, float]]]:
    """``{method: {"mean": {...}, "median": {...}}}`` over the metric columns and seconds.

    For binary ground truth the mean's ``max_f`` is the data set's max F (the maximum over
    thresholds of the mean F-measure curve, as salient-object papers report it); the
    median's is the median of the images' own max F.
    """
    rows = list(rows)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for method in plan.methods:
        chosen = [r for r in rows if r.method == method]
        if not chosen:
            continue
        stats: dict[str, dict[str, float]] = {"mean": {}, "median": {}}
        for key in plan.metrics + ("seconds",):
            values = [r.scores[key] if key in r.scores else getattr(r, key) for r in chosen]
            stats["mean"][key] = statistics.fmean(values)
            stats["median"][key] = statistics.median(values)
        if "max_f" in plan.metrics:
            stats["mean"]["max_f"] = salient.max_f([r.curve for r in chosen])
        out[method] = stats
    return out


@dataclass(frozen=True)
class Comparison:
    """A method against ``raw`` over the same images.

    worse: images where it is worse than raw by more than the threshold, of ``images``.
    worst: the largest drop (IoU lost, or SAD gained; negative when it is better everywhere),
    on ``worst_image``. metric and threshold: what was compared.
    """

    method: str
    metric: str
    threshold: float
    worse: int
    images: int
    worst: float
    worst_image: str


def compare_with_raw(rows: Iterable[Row], plan: Plan, *, iou_drop: float = IOU_DROP,
                     sad_rise: float = SAD_RISE) -> list[Comparison]:
    """Each method other than raw against raw, image by image: IoU drop beyond ``iou_drop``
    (binary ground truth) or SAD rise beyond ``sad_rise`` (soft). Empty without raw."""
    rows = list(rows)
    raw = {r.image: r for r in rows if r.method == "raw"}
    if not raw:
        return []
    metric, threshold, sign = ("iou", iou_drop, -1.0) if "iou" in plan.metrics else ("sad", sad_rise, 1.0)
    out = []
    for method in plan.methods:
        if method == "raw":
            continue
        drops = [(sign * (r.scores[metric] - raw[r.image].scores[metric]), r.image)
                 for r in rows if r.method == method and r.image in raw]
        if drops:
            worst, image = max(drops)
            out.append(Comparison(method, metric, threshold, sum(d > threshold for d, _ in drops), len(drops), worst, image))
    return out


def write_csv(rows: Sequence[Row], plan: Plan, path: Path) -> None:
    """Per-image rows (``image, method, metrics…, seconds, runs, confidence``), then each
    method's ``mean`` and ``median`` rows (see :func:`summarise`)."""
    stats = summarise(rows, plan)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("image", "method") + plan.metrics + ("seconds", "runs", "confidence"))
        for r in rows:
            writer.writerow([r.image, r.method] + [f"{r.scores[k]:.6f}" for k in plan.metrics]
                            + [f"{r.seconds:.3f}", r.runs, "" if math.isnan(r.confidence) else f"{r.confidence:.3f}"])
        for method, s in stats.items():
            for label in ("mean", "median"):
                writer.writerow([label, method] + [f"{s[label][k]:.6f}" for k in plan.metrics] + [f"{s[label]['seconds']:.3f}"])
