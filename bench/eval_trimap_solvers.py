"""Score trimap-based alpha solvers on the shared alphamatting images.

Prints per-image SAD over the trimap's unknown pixels and the solve time, then
the mean and median, for each solver on trimap1 and trimap2.

    python bench/eval_trimap_solvers.py [--solvers cf,info_flow] [--trimaps trimap1,trimap2]
                                        [--images GT01,GT02] [--data PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.alpha.closed_form import estimate_alpha_cf  # noqa: E402
from core.alpha.info_flow import estimate_alpha_info_flow  # noqa: E402
from core.eval.metrics import sad  # noqa: E402

SOLVERS = {
    "cf": estimate_alpha_cf,
    "info_flow": estimate_alpha_info_flow,
}
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/alphamatting"


def load(data: Path, name: str, trimap_dir: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """image (H, W, 3) float32 RGB in [0, 1], trimap (H, W) uint8, gt (H, W) float64 in [0, 1]."""
    image = np.asarray(Image.open(data / "input" / f"{name}.png").convert("RGB"), dtype=np.float32) / 255.0
    trimap = np.asarray(Image.open(data / trimap_dir / f"{name}.png").convert("L"), dtype=np.uint8)
    gt = np.asarray(Image.open(data / "gt" / f"{name}.png"))
    gt = (gt[..., 0] if gt.ndim == 3 else gt).astype(np.float64) / 255.0
    return image, trimap, gt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solvers", default="cf,info_flow")
    parser.add_argument("--trimaps", default="trimap1,trimap2")
    parser.add_argument("--images", default=",".join(f"GT{i:02d}" for i in range(1, 16)))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    solvers = args.solvers.split(",")
    unknown = [s for s in solvers if s not in SOLVERS]
    if unknown:
        parser.error(f"unknown solver(s) {unknown}; choose from {sorted(SOLVERS)}")
    names = args.images.split(",")

    # Warm up numba-compiled kernels so the first image's time is not JIT time.
    image, trimap, _ = load(args.data, names[0], args.trimaps.split(",")[0])
    for solver in solvers:
        SOLVERS[solver](image[:64, :64].copy(), trimap[:64, :64].copy())

    summary = []
    for trimap_dir in args.trimaps.split(","):
        print(f"\n== {trimap_dir} ==")
        print(f"{'image':8s}" + "".join(f"{s:>12s} {'s':>6s}" for s in solvers))
        scores = {s: [] for s in solvers}
        times = {s: [] for s in solvers}
        for name in names:
            image, trimap, gt = load(args.data, name, trimap_dir)
            region = trimap == 128
            line = f"{name:8s}"
            for solver in solvers:
                t0 = time.perf_counter()
                alpha = SOLVERS[solver](image, trimap)
                dt = time.perf_counter() - t0
                scores[solver].append(sad(alpha, gt, region))
                times[solver].append(dt)
                line += f"{scores[solver][-1]:12.3f} {dt:6.2f}"
            print(line, flush=True)
        for solver in solvers:
            summary.append(
                (trimap_dir, solver, np.mean(scores[solver]), np.median(scores[solver]), np.mean(times[solver]))
            )
    print(f"\n{'trimap':8s} {'solver':10s} {'mean SAD':>9s} {'median':>8s} {'s/image':>8s}")
    for trimap_dir, solver, mean, median, secs in summary:
        print(f"{trimap_dir:8s} {solver:10s} {mean:9.3f} {median:8.3f} {secs:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
