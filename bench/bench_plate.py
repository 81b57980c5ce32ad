"""Per-stage time and peak memory of Select Subject with a clean plate at several sizes.

The scene is GT05's subject over GT12's photo with a handheld retake as the plate
(:mod:`testing.plate_synthetic`), both upscaled (bicubic) to each size. Each size runs in a
fresh child process so its peak RSS is its own; times are the median of --repeat runs
after a warm-up.

    python bench/bench_plate.py --sizes 0.5,2,12 --repeat 3

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "alphamatting"


def child(megapixels: float, repeat: int, model: str) -> dict:
    import cv2
    import numpy as np

    from core.imageio import load_grey, load_image
    from core.models.session import open_session
    from core.plate.pipeline import plate_stage
    from core.subject.coarse import model_stage
    from core.subject.options import MatteOptions
    from testing.plate_synthetic import estimate_foreground, plate_case

    gt = load_grey(DATA / "gt" / "GT05.png").astype(np.float32) / 255.0
    foreground = estimate_foreground(load_image(DATA / "input" / "GT05.png"), gt)
    case = plate_case(foreground, gt, load_image(DATA / "input" / "GT12.png"), np.random.default_rng(3))
    h, w = gt.shape
    scale = (megapixels * 1e6 / (h * w)) ** 0.5
    size = (round(w * scale), round(h * scale))
    image = np.clip(cv2.resize(case.image, size, interpolation=cv2.INTER_CUBIC), 0, 1)
    plate = np.clip(cv2.resize(case.plate, size, interpolation=cv2.INTER_CUBIC), 0, 1)
    session = open_session(model, device="cpu")
    options = MatteOptions()
    runs = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        stage = model_stage(image, session.predict, options)
        matte = plate_stage(image, plate, stage, options)
        runs.append((time.perf_counter() - start, matte.timings))
    runs = runs[1:]
    total, timings = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"megapixels": megapixels, "width": size[0], "height": size[1], "seconds": total,
            "stages": {k: round(v, 3) for k, v in timings.items()}, "peak_mb": peak_mb,
            "inliers": matte.alignment.inliers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0.5,2,12", help="megapixels")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="isnet")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.repeat, args.model)))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, Python {platform.python_version()}")
    print("| size | total s | model | align | trimap | refine | upsample | foreground | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mp in (float(s) for s in args.sizes.split(",")):
        done = subprocess.run([sys.executable, __file__, "--child", str(mp), "--repeat", str(args.repeat),
                               "--model", args.model], capture_output=True, text=True, check=True, cwd=ROOT)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        st = row["stages"]
        print(f"| {row['width']}×{row['height']} ({mp:g} MP) | {row['seconds']:.2f} | {st.get('model', 0):.2f} | "
              f"{st.get('align', 0):.2f} | {st.get('trimap', 0):.2f} | {st.get('refine', 0):.2f} | "
              f"{st.get('upsample', 0):.2f} | {st.get('foreground', 0) + st.get('edges', 0):.2f} | "
              f"{row['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
