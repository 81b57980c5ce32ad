"""Score trimap-free "Select Subject" end to end on the shared alphamatting images.

Stages: model views (:func:`core.views.predict_coarse`) -> automatic trimap
(:func:`core.trimap.auto_trimap`) -> trimap solver -> whole-image SAD against gt.
Prints, per image, the SAD of the plain model output (one run, no views), of the
coarse mask, and of each solver's matte, with the model runs spent and the
coarse confidence; then mean and median.

    python bench/eval_select_subject.py --model /path/to/isnet.onnx
        [--solvers pymatting_cf,cf,info_flow] [--images GT01,GT02] [--band 0.015]
        [--cache-dir /tmp/views_cache] [--threads 2] [--data PATH]

Model outputs are cached on disk under ``--cache-dir`` keyed by the exact model
input, so reruns and other view strategies never repeat an inference.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.eval.cache import CachedPredict  # noqa: E402
from core.eval.metrics import sad  # noqa: E402
from core.trimap import auto_trimap  # noqa: E402
from core.views import predict_coarse  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/alphamatting"


def pymatting_cf(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """pymatting's ``estimate_alpha_cf`` (the stand-in refiner), trimap-only cases short-cut."""
    from pymatting import estimate_alpha_cf

    if not (trimap == 128).any():
        return (trimap == 255).astype(np.float32)
    alpha = estimate_alpha_cf(image.astype(np.float64), trimap.astype(np.float64) / 255.0)
    return np.clip(alpha, 0.0, 1.0).astype(np.float32)


def _core_solver(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    if name == "cf":
        from core.alpha.closed_form import estimate_alpha_cf

        return estimate_alpha_cf
    from core.alpha.info_flow import estimate_alpha_info_flow

    return estimate_alpha_info_flow


SOLVER_NAMES = ("pymatting_cf", "cf", "info_flow")


def solver_by_name(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """(image (H, W, 3) float32 RGB, trimap (H, W) uint8) -> alpha (H, W) float in [0, 1]."""
    return pymatting_cf if name == "pymatting_cf" else _core_solver(name)


def cached_isnet(model_path: Path, cache_dir: Path, *, threads: int = 2) -> CachedPredict:
    """IS-Net through ``core.models.session.MaskSession`` (loaded on the first inference),
    behind :class:`core.eval.cache.CachedPredict`: ``runs`` counts calls, ``computed``
    actual inferences."""
    session = None

    def predict(image: np.ndarray) -> np.ndarray:
        nonlocal session
        if session is None:
            from core.models import registry
            from core.models.session import MaskSession
            from core.providers import choose_providers

            spec = registry.get_spec(registry.DEFAULT_MODEL)
            session = MaskSession(spec, model_path, choose_providers("cpu"), threads=threads)
        return session.predict(image)

    return CachedPredict(predict, cache_dir, "isnet-session")


def load(data: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """image (H, W, 3) float32 RGB in [0, 1], gt (H, W) float64 in [0, 1]."""
    image = np.asarray(Image.open(data / "input" / f"{name}.png").convert("RGB"), dtype=np.float32) / 255.0
    gt = np.asarray(Image.open(data / "gt" / f"{name}.png"))
    gt = (gt[..., 0] if gt.ndim == 3 else gt).astype(np.float64) / 255.0
    return image, gt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="IS-Net fp32 .onnx file")
    parser.add_argument("--solvers", default="pymatting_cf")
    parser.add_argument("--images", default=",".join(f"GT{i:02d}" for i in range(1, 16)))
    parser.add_argument("--band", type=float, default=0.015)
    parser.add_argument("--max-runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/views_cache"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    solvers = args.solvers.split(",")
    unknown = [s for s in solvers if s not in SOLVER_NAMES]
    if unknown:
        parser.error(f"unknown solver(s) {unknown}; choose from {list(SOLVER_NAMES)}")
    predict = cached_isnet(args.model, args.cache_dir, threads=args.threads)

    header = f"{'image':6s} {'raw':>6s} {'coarse':>6s} " + " ".join(f"{s:>12s}" for s in solvers)
    print(header + "  runs  conf  source  (solve s)")
    rows: list[list[float]] = []
    runs: list[int] = []
    for name in args.images.split(","):
        image, gt = load(args.data, name)
        everything = np.ones_like(gt, dtype=bool)
        raw = predict(image)  # the plain single-view model, for reference (cached)
        start = predict.runs
        coarse = predict_coarse(image, predict, max_runs=args.max_runs)
        runs.append(predict.runs - start)
        trimap = auto_trimap(coarse.alpha, band=args.band)
        row = [sad(raw, gt, everything), sad(coarse.alpha, gt, everything)]
        times = []
        for solver in solvers:
            t0 = time.perf_counter()
            alpha = solver_by_name(solver)(image, trimap)
            times.append(time.perf_counter() - t0)
            row.append(sad(np.clip(alpha, 0.0, 1.0), gt, everything))
        rows.append(row)
        print(
            f"{name:6s} " + " ".join(f"{v:6.1f}" for v in row[:2]) + " "
            + " ".join(f"{v:12.1f}" for v in row[2:])
            + f"  {runs[-1]:4d}  {coarse.confidence:.2f}  {coarse.source}  ("
            + ", ".join(f"{t:.1f}" for t in times) + ")",
            flush=True,
        )
    table = np.array(rows)
    for label, fn in (("mean", np.mean), ("median", np.median)):
        values = fn(table, axis=0)
        print(
            f"{label:6s} " + " ".join(f"{v:6.1f}" for v in values[:2]) + " "
            + " ".join(f"{v:12.1f}" for v in values[2:])
            + f"  {fn(runs):4.2f}"
        )
    print(f"model inferences computed this run: {predict.computed} (the rest came from {args.cache_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
